"""Retention: what the platform deletes, when, and the sweeper process that does the PostgreSQL and
artifact-store part of it (the saga and stage tables are purged inside their own faust processes)."""
