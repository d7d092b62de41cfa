"""Self-registration by SMS (DESIGN.md §4.3)."""
