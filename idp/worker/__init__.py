"""``educonnect worker``: the one process kind that runs background work (outbox delivery and
the periodic jobs), any number at once."""
