"""Grouping children under one guardian account (DESIGN.md §4.5)."""
