"""SMS and e-mail gateways: outbox (development), SMTP, HTTP SMS provider."""
