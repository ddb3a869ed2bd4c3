"""Operations scripts: load and fault tests run by `make load` and `make faults` (never by the unit suite)."""
