"""Performance measurements run by `make bench`; they print figures and assert nothing."""
