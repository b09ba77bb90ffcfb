"""A fresh durable log for storage tests, and the submissions they sign."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ledger.demo import lot_fields
from ledger.events import Submission, make_event, sign_event
from ledger.keys import SigningKey
from ledger.labels import ids
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog

ORIGIN = "test.tizbek.kz/log"


@pytest.fixture
def log(database_url: str, tmp_path: Path) -> Iterator[tuple[SqlLog, SigningKey]]:
    """A new log in the test's database, and the authority's key."""
    create_log(
        database_url, keys=tmp_path / "k", origin=ORIGIN, authority_id="kz-auth", authority_name="A"
    )
    engine = make_engine(database_url)
    sql = SqlLog.open(engine, tmp_path / "k" / "log.key")
    yield sql, SigningKey.load(tmp_path / "k" / "authority.key")
    sql.close()
    engine.dispose()


def signed(key: SigningKey, actor: str, etype: str, **fields: Any) -> Submission:
    """An event of this log, signed."""
    return sign_event(key, make_event(etype, log=ORIGIN, actor=actor, key=key, **fields))


def registered(authority: SigningKey, org: str) -> Submission:
    """The authority registers a collector."""
    return signed(
        authority,
        "kz-auth",
        "org.registered",
        org=org,
        name=f"{org} LLP",
        bin="210440000001",
        roles=["collector"],
        country="KZ",
        region="Almaty",
    )


def bound(authority: SigningKey, key: SigningKey, org: str) -> Submission:
    """The authority binds ``key`` to ``org``."""
    return signed(
        authority,
        "kz-auth",
        "key.bound",
        org=org,
        public_key=key.public.base64,
        key_id=key.key_id,
        label="phone",
    )


def block_of(org: str) -> str:
    """The label block the tests issue to ``org``: the same for the same name."""
    digest = hashlib.sha256(org.encode()).digest()
    return "".join(ids.ALPHABET[b % ids.BASE] for b in digest[: ids.BLOCK_LEN])


def label(org: str, serial: int) -> str:
    """The id on label ``serial`` issued to ``org``."""
    return ids.make(block_of(org), serial)


def issued(authority: SigningKey, org: str, count: int = 10_000) -> Submission:
    """The authority issues ``org`` a block of labels."""
    return signed(authority, "kz-auth", "labels.issued", org=org, block=block_of(org), count=count)


def lot(key: SigningKey, org: str, serial: int, **changes: Any) -> Submission:
    """A collector registers the lot that carries its label ``serial``."""
    return signed(key, org, "lot.registered", **lot_fields(label(org, serial), **changes))


def drop_guards(engine: Engine) -> None:
    """What an attacker with the database does first: drop the append-only triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for table in ("log_entries", "tree_nodes", "checkpoints"):
                for action in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))
        else:
            conn.execute(text("DROP FUNCTION tizbek_refuse_change() CASCADE"))
