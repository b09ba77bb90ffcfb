"""Material flows: the grams each entry moved, for statistics, mass balance and reports.

An existing log gets the table empty; ``tizbek rebuild`` fills it by replaying
the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("n", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("at", _text(40), nullable=False),
        sa.Column("day", _text(10), nullable=False),
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("org", _text(64), nullable=False),
        sa.Column("lot", _text(64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=True),
        sa.Column("region", _text(), nullable=True),
        sa.Column("counterpart", _text(64), nullable=True),
        sa.Column("operation", _text(8), nullable=True),
        sa.Column("material", _text(32), nullable=True),
        sa.Column("producer", _text(64), nullable=True),
        sa.Column("licence", _text(64), nullable=True),
        sa.PrimaryKeyConstraint("seq", "n", name=op.f("pk_flows")),
    )
    op.create_index("ix_flows_kind_day", "flows", ["kind", "day"], unique=False)
    op.create_index("ix_flows_org_day", "flows", ["org", "day"], unique=False)
    op.create_index("ix_flows_lot_kind", "flows", ["lot", "kind"], unique=False)
    op.create_index("ix_flows_licence", "flows", ["licence"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_flows_licence", table_name="flows")
    op.drop_index("ix_flows_lot_kind", table_name="flows")
    op.drop_index("ix_flows_org_day", table_name="flows")
    op.drop_index("ix_flows_kind_day", table_name="flows")
    op.drop_table("flows")
