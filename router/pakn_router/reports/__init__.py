"""Periodic reports for the Department and agencies: a printable page, spreadsheets, a command."""
