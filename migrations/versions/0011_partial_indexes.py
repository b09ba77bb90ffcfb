"""Index lots' discrepancies and unlicensed flows only where there are some.

``ix_lots_discrepancy_status`` held an entry for every lot, almost all of
them NULL, and ``ix_flows_licence`` one for every flow, almost all of them
NULL or a licence number; the queries that use them look only for lots with
a discrepancy (``discrepancy_status = ?``) and for flows no licence covered
(``licence = ''``, which the custody rules refuse, so an inspector's finding).
As partial indexes they hold just those rows, and a lot's registration, like
most appends, no longer writes a page of either: two of the thirty or so
pages its commit wrote to SQLite's WAL (docs/performance.md). Both databases
use a partial index for such queries.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_lots_discrepancy_status", "lots", "discrepancy_status", "discrepancy_status IS NOT NULL"),
    ("ix_flows_licence", "flows", "licence", "licence = ''"),
)


def upgrade() -> None:
    for name, table, column, where in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, table, column, _where in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=False)
