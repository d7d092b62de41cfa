"""The hosted login: password check, throttling, the steps after it, the staff second factor."""
