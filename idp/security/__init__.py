"""Rate limits, CSRF, security headers and the audit trail."""
