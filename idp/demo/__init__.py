"""The development relying party "LSUN démo" and the demo data set."""
