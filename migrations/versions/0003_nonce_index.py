"""Lead the nonce index with the nonce, so a batch finds its resends in one index probe each.

The index on ``(signer_key, nonce)`` kept the rule (a key uses a nonce once)
but made looking up a batch's nonces scan every entry of a busy key. The same
rule with the nonce first is as strict and stays fast however many entries a
key has signed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_log_entries_signer_nonce", table_name="log_entries")
    op.create_index(
        "ix_log_entries_nonce_signer", "log_entries", ["nonce", "signer_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_log_entries_nonce_signer", table_name="log_entries")
    op.create_index(
        "ix_log_entries_signer_nonce", "log_entries", ["signer_key", "nonce"], unique=True
    )
