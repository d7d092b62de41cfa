"""Activation of a notified account (DESIGN.md §4.2)."""
