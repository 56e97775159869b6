"""Tests of staff accounts and sessions (pakn.auth)."""
