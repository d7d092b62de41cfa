"""Forgotten identifier and password (DESIGN.md §4.6)."""
