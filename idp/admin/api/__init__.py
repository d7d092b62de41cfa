"""The administration API (``/api/admin``)."""
