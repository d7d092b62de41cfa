"""The transactional outbox: every external effect (SMS, e-mail, back-channel logout) is a row
written in the transaction that caused it, delivered later by ``educonnect worker``."""
