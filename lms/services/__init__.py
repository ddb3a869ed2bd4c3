"""Business rules. Plain functions that take the acting user, flush and never commit:
the request (or CLI command) that calls them commits once on success."""
