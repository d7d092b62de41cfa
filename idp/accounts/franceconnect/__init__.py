"""Logging in with FranceConnect (DESIGN.md §4.4)."""
