"""Drop the unique index on the entries' leaf hashes: nothing looks an entry up by it.

A leaf hash covers the entry's seq, so two entries cannot share one, and no
query finds an entry by its hash. The index only cost every append a page of
a random-keyed B-tree, which on a log of millions of entries is a page the
database must first read.

On SQLite the constraint is part of the table's definition, so the table is
rebuilt without it (every entry copied as it is) and its append-only triggers
made again; on PostgreSQL the constraint is dropped in place.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NAME = "uq_log_entries_leaf_hash"


def _sqlite_triggers() -> None:
    """The append-only triggers of ``log_entries``, which its rebuild dropped with it."""
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER log_entries_no_{action.lower()} BEFORE {action} ON log_entries "
            "BEGIN SELECT RAISE(ABORT, 'log_entries is append-only'); END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("log_entries", recreate="always") as batch:
            batch.drop_constraint(_NAME, type_="unique")
        _sqlite_triggers()
        return
    op.drop_constraint(_NAME, "log_entries", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("log_entries", recreate="always") as batch:
            batch.create_unique_constraint(_NAME, ["leaf_hash"])
        _sqlite_triggers()
        return
    op.create_unique_constraint(_NAME, "log_entries", ["leaf_hash"])
