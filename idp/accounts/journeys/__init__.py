"""What the account journeys share: page helpers, one-time codes, e-mailed links."""
