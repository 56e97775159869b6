"""Tests of the ops files in deploy/ and docker-compose.yml."""
