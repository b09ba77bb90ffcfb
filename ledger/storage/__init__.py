"""Durable storage of the log and its projections (SQLite by default, PostgreSQL in production).

The pure core never imports this package; it reaches storage only through
functions passed in (for example a :data:`~ledger.merkle.NodeReader`).
"""
