"""Federation with upstream identity providers (FranceConnect v2) and a local FC simulator."""
