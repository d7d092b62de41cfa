"""What an operator sees: metrics, structured logs, request ids, traces (DESIGN.md §5)."""
