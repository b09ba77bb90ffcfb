"""What the inspectors' findings read: lot and transfer times, weights and discrepancies.

Existing rows get the new columns empty; ``tizbek rebuild`` fills them by
replaying the log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_LOT_COLUMNS = [
    ("created_at", sqlmodel.sql.sqltypes.AutoString(length=40)),
    ("last_at", sqlmodel.sql.sqltypes.AutoString(length=40)),
    ("registered_g", sa.BigInteger()),
    ("received_g", sa.BigInteger()),
    ("carrier", sqlmodel.sql.sqltypes.AutoString()),
    ("first_dispatch_seq", sa.BigInteger()),
    ("discrepancy_status", sqlmodel.sql.sqltypes.AutoString(length=16)),
    ("discrepancy_deadline", sqlmodel.sql.sqltypes.AutoString(length=40)),
]
_TRANSFER_COLUMNS = [
    ("dispatched_at", sqlmodel.sql.sqltypes.AutoString(length=40)),
    ("received_at", sqlmodel.sql.sqltypes.AutoString(length=40)),
]


def upgrade() -> None:
    with op.batch_alter_table("lots") as batch:
        for name, kind in _LOT_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.create_index(
            batch.f("ix_lots_discrepancy_status"), ["discrepancy_status"], unique=False
        )
    with op.batch_alter_table("transfers") as batch:
        for name, kind in _TRANSFER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        for name, _ in reversed(_TRANSFER_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("lots") as batch:
        batch.drop_index(batch.f("ix_lots_discrepancy_status"))
        for name, _ in reversed(_LOT_COLUMNS):
            batch.drop_column(name)
