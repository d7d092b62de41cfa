"""The school registry: schools, pupils, guardians and guardianships, fed by ONDE and SIECLE."""
