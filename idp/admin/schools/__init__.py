"""Notifying a school's people: credentials and letters."""
