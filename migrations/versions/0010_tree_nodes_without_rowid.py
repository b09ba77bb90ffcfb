"""On SQLite, keep the Merkle nodes in their primary key's B-tree (``WITHOUT ROWID``).

A table with a composite primary key is, on SQLite, a table ordered by a
hidden row id plus a separate index on the key: finding a node read the index
and then the table, two B-trees and, on a large log, two pages that may have
left the operating system's cache. An inclusion proof reads some twenty nodes.
Without the row id the table is the key's B-tree itself, and the nodes of a
level lie side by side in it. Measured on a log of 1,000,000 entries with the
page cache dropped first: an inclusion proof's p99 fell from 1.9-2.4 ms to
1.2-1.5 ms (from 3.7-4.4 ms to 1.3-1.9 ms on vacuumed copies), and the table
from 28,686 pages to 20,702 (docs/performance.md).

The table is rebuilt with every node copied as it is, and its append-only
triggers made again. PostgreSQL has no such distinction; nothing changes there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "tree_nodes", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
    ):
        pass
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER tree_nodes_no_{action.lower()} BEFORE {action} ON tree_nodes "
            "BEGIN SELECT RAISE(ABORT, 'tree_nodes is append-only'); END"
        )


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
