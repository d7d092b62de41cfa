"""Accounts: what people log in with (registry records are separate, see ``idp.registry``)."""
