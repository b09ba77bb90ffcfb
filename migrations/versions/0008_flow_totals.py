"""Running totals of the flows, per day and per what the statistics group by.

An existing log gets the table filled from its ``flows`` rows here, so its
statistics stay right without a rebuild.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "flow_totals",
        sa.Column("kind", _text(16), nullable=False),
        sa.Column("day", _text(10), nullable=False),
        sa.Column("org", _text(64), nullable=False),
        sa.Column("counterpart", _text(64), nullable=False),
        sa.Column("category", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("region", _text(), nullable=False),
        sa.Column("material", _text(32), nullable=False),
        sa.Column("operation", _text(8), nullable=False),
        sa.Column("producer", _text(64), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind",
            "day",
            "org",
            "counterpart",
            "category",
            "region",
            "material",
            "operation",
            "producer",
            name=op.f("pk_flow_totals"),
        ),
    )
    op.execute(
        "INSERT INTO flow_totals (kind, day, org, counterpart, category, region, material, "
        "operation, producer, grams, rows) "
        "SELECT kind, day, org, coalesce(counterpart, ''), coalesce(category, 0), "
        "coalesce(region, ''), coalesce(material, ''), coalesce(operation, ''), "
        "coalesce(producer, ''), sum(grams), count(*) FROM flows "
        "GROUP BY kind, day, org, coalesce(counterpart, ''), coalesce(category, 0), "
        "coalesce(region, ''), coalesce(material, ''), coalesce(operation, ''), "
        "coalesce(producer, '')"
    )


def downgrade() -> None:
    op.drop_table("flow_totals")
