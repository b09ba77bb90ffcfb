"""Alembic migrations of Tizbek's schema (SQLite and PostgreSQL)."""
