"""The database tables: the log itself, its Merkle nodes and checkpoints, and projections.

``log_entries``, ``tree_nodes`` and ``checkpoints`` are the log; every other
table is a projection that replaying the log rebuilds. Binary hashes are
stored as 32 raw bytes; leaf data as the exact canonical bytes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    false,
    text,
)
from sqlmodel import Field, SQLModel

#: Constraint names that Alembic can rely on, on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class LogEntry(SQLModel, table=True):
    """One entry: its position, exact leaf bytes and leaf hash."""

    __tablename__ = "log_entries"
    __table_args__ = (Index("ix_log_entries_nonce_signer", "nonce", "signer_key", unique=True),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signer_key: str = Field(max_length=64)
    nonce: str = Field(max_length=64)
    logged_at: str = Field(max_length=40)


class TreeNode(SQLModel, table=True):
    """The hash of a perfect subtree ``(level, idx)`` of the Merkle tree.

    On SQLite the table is its primary key's B-tree (``WITHOUT ROWID``), so
    looking a node up reads one B-tree rather than an index and then the table.
    """

    __tablename__ = "tree_nodes"
    __table_args__ = {"sqlite_with_rowid": False}

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class StoredCheckpoint(SQLModel, table=True):
    """A checkpoint the log signed, kept so that every later one is proven consistent."""

    __tablename__ = "checkpoints"

    size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    signed_at: str = Field(max_length=40)


class SubjectHead(SQLModel, table=True):
    """The latest entry about each lot and transfer: what the next ``after`` must name."""

    __tablename__ = "subject_heads"

    kind: str = Field(primary_key=True, max_length=16)
    subject: str = Field(primary_key=True, max_length=64)
    head_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class Organisation(SQLModel, table=True):
    """Projection: a registered organisation."""

    __tablename__ = "organisations"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    bin: str = Field(max_length=12)
    roles: str = Field(description="comma-separated roles")
    country: str = Field(max_length=2)
    region: str
    registered_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    deregistered_seq: int | None = Field(default=None, sa_column=Column(BigInteger))


class BoundKey(SQLModel, table=True):
    """Projection: a key bound to an organisation (or the authority)."""

    __tablename__ = "keys"

    key_id: str = Field(primary_key=True, max_length=64)
    org: str = Field(index=True, max_length=64)
    public_key: str = Field(max_length=44)
    label: str
    bound_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    revoked_seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    admin: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class SubjectDoc(SQLModel, table=True):
    """The custody document of an organisation, lot, transfer or revision, as JSON.

    The rules read these when they check an event; the typed projection tables
    are written from them.
    """

    __tablename__ = "subject_docs"

    kind: str = Field(primary_key=True, max_length=16)
    subject: str = Field(primary_key=True, max_length=64)
    doc: str = Field(sa_column=Column(Text, nullable=False))


class SubjectParty(SQLModel, table=True):
    """Projection: an organisation that is or was party to a lot or transfer."""

    __tablename__ = "subject_parties"

    org: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=16)
    subject: str = Field(primary_key=True, max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token that lets an organisation or an inspector read through the API.

    Only the SHA-256 of the token is kept; ``id`` names it for revocation.
    Tokens authorise reading; signatures, not tokens, authorise writing.
    """

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=16)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    org: str = Field(max_length=64)
    role: str = Field(max_length=16)
    label: str
    created_at: str = Field(max_length=40)
    revoked_at: str | None = Field(default=None, max_length=40)


class Licence(SQLModel, table=True):
    """Projection: a licence granted to an organisation."""

    __tablename__ = "licences"

    org: str = Field(primary_key=True, max_length=64)
    number: str = Field(primary_key=True, max_length=64)
    valid_from: str = Field(max_length=10)
    valid_to: str = Field(max_length=10)
    waste_codes: str
    categories: str
    operations: str
    capacity_kg: int | None = Field(default=None, sa_column=Column(BigInteger))
    status: str = Field(max_length=16)
    granted_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class Lot(SQLModel, table=True):
    """Projection: a lot's current state and holder, and its latest entry."""

    __tablename__ = "lots"
    __table_args__ = (
        Index(
            "ix_lots_discrepancy_status",
            "discrepancy_status",
            sqlite_where=text("discrepancy_status IS NOT NULL"),
            postgresql_where=text("discrepancy_status IS NOT NULL"),
        ),
    )

    lot: str = Field(primary_key=True, max_length=64)
    collector: str = Field(index=True, max_length=64)
    holder: str = Field(index=True, max_length=64)
    state: str = Field(index=True, max_length=32)
    category: int = Field(sa_column=Column(SmallInteger, nullable=False))
    waste_code: str = Field(max_length=16)
    weight_g: int = Field(sa_column=Column(BigInteger, nullable=False))
    region: str | None = Field(default=None)
    created_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    #: For the inspectors' findings (filled by ``tizbek rebuild`` for lots of older logs).
    created_at: str | None = Field(default=None, max_length=40)
    last_at: str | None = Field(default=None, max_length=40)
    registered_g: int | None = Field(default=None, sa_column=Column(BigInteger))
    received_g: int | None = Field(default=None, sa_column=Column(BigInteger))
    carrier: str | None = Field(default=None)
    first_dispatch_seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    #: Indexed only where set (few lots ever have a discrepancy): see migration 0011.
    discrepancy_status: str | None = Field(default=None, max_length=16)
    discrepancy_deadline: str | None = Field(default=None, max_length=40)


class Transfer(SQLModel, table=True):
    """Projection: a transfer between organisations and its latest entry."""

    __tablename__ = "transfers"

    transfer: str = Field(primary_key=True, max_length=64)
    sender: str = Field(index=True, max_length=64)
    destination: str = Field(index=True, max_length=64)
    transporter: str | None = Field(default=None, max_length=64)
    state: str = Field(index=True, max_length=32)
    created_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    head_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    dispatched_at: str | None = Field(default=None, max_length=40)
    received_at: str | None = Field(default=None, max_length=40)


class FlowRow(SQLModel, table=True):
    """Projection: grams an entry moved into or out of a party's stock, or accounted for.

    See :mod:`ledger.insight.flows` for the kinds; ``day`` is the reporting day.
    """

    __tablename__ = "flows"
    __table_args__ = (
        Index("ix_flows_kind_day", "kind", "day"),
        Index("ix_flows_org_day", "org", "day"),
        Index("ix_flows_lot_kind", "lot", "kind"),
        # Only the flows no licence covered (the inspectors' finding), which the rules
        # refuse: see migration 0011.
        Index(
            "ix_flows_licence",
            "licence",
            sqlite_where=text("licence = ''"),
            postgresql_where=text("licence = ''"),
        ),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    n: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    at: str = Field(max_length=40)
    day: str = Field(max_length=10)
    kind: str = Field(max_length=16)
    org: str = Field(max_length=64)
    lot: str = Field(max_length=64)
    grams: int = Field(sa_column=Column(BigInteger, nullable=False))
    category: int | None = Field(default=None, sa_column=Column(SmallInteger))
    region: str | None = Field(default=None)
    counterpart: str | None = Field(default=None, max_length=64)
    operation: str | None = Field(default=None, max_length=8)
    material: str | None = Field(default=None, max_length=32)
    producer: str | None = Field(default=None, max_length=64)
    licence: str | None = Field(default=None, max_length=64)


class FlowTotal(SQLModel, table=True):
    """Projection: ``flows`` summed per day and per everything the statistics group by.

    Kept current with every append (each batch adds its rows' grams), so the
    statistics read a few thousand totals instead of millions of rows. An
    absent region, counterpart, material, operation or producer is ``""``,
    an absent category 0.
    """

    __tablename__ = "flow_totals"

    kind: str = Field(primary_key=True, max_length=16)
    day: str = Field(primary_key=True, max_length=10)
    org: str = Field(primary_key=True, max_length=64)
    counterpart: str = Field(primary_key=True, max_length=64)
    category: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    region: str = Field(primary_key=True)
    material: str = Field(primary_key=True, max_length=32)
    operation: str = Field(primary_key=True, max_length=8)
    producer: str = Field(primary_key=True, max_length=64)
    grams: int = Field(sa_column=Column(BigInteger, nullable=False))
    rows: int = Field(sa_column=Column(BigInteger, nullable=False))


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


#: Core tables of the log, for typed SQL expressions.
ENTRIES = _table(LogEntry)
NODES = _table(TreeNode)
CHECKPOINTS = _table(StoredCheckpoint)
KEYS = _table(BoundKey)
HEADS = _table(SubjectHead)
DOCS = _table(SubjectDoc)
PARTIES = _table(SubjectParty)
LOTS = _table(Lot)
TRANSFERS = _table(Transfer)
TOKENS = _table(ApiToken)
FLOWS = _table(FlowRow)
FLOW_TOTALS = _table(FlowTotal)
