"""Logs for the benchmarks: signing organisations, scratch databases, and a bulk loader.

The loader grows a log to millions of entries in minutes: it writes real,
signed, chained entries with their Merkle nodes and projections straight into
the databases (as ``tizbek import`` would: the custody rules make each lot's
document and flows, but signatures and the chain are not checked again), and
then lets the databases finish writing the load out (:func:`settle`), so that
what is measured next is a log at rest, as a live one is.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ledger.canonical import parse_json
from ledger.custody.rules import Custody
from ledger.entries import Entry
from ledger.events import Submission, make_event, sign_event, utc_now
from ledger.insight import flows
from ledger.keys import SigningKey
from ledger.labels import ids
from ledger.merkle import CompactRange
from ledger.storage.engine import WRITE
from ledger.storage.hotpath import Driver
from ledger.storage.projections import write_docs, write_flows
from ledger.storage.sqllog import SqlLog, node_reader
from ledger.storage.state import SqlState

if TYPE_CHECKING:
    from append_floor import AppendFloor

ORIGIN = "bench.tizbek.kz/log"
AUTHORITY = "kz-eco"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Org:
    """A submitting organisation: its id, signing key and the label block it was issued."""

    ident: str
    key: SigningKey
    counter: int = 0
    block: str = field(default_factory=ids.random_block)

    def next_lot(self) -> str:
        """The id on the organisation's next label."""
        self.counter += 1
        return ids.make(self.block, self.counter)


@dataclass
class Store:
    """One database under test and what the run measured on it."""

    name: str
    url: str
    engine: Engine
    log: SqlLog
    figures: dict[str, float] = field(default_factory=dict)
    #: Minimal appends into an empty database of the same kind, for the floor of one
    #: submitter's rate (``bench_storage.py`` only).
    floor: AppendFloor | None = None


# --- making submissions ------------------------------------------------------------------


def lot_event(org: Org, lot: str) -> dict[str, Any]:
    """A collector's ``lot.registered`` event for a small lot of household IT equipment."""
    return make_event(
        "lot.registered",
        log=ORIGIN,
        actor=org.ident,
        key=org.key,
        lot=lot,
        category=6,
        waste_code="16 02 14",
        hazardous=False,
        hp_codes=[],
        items=3,
        weight_g=4200,
        weight_measured=True,
        source="household",
        site="almaty-depot-1",
    )


def wire(org: Org, prefix: str) -> bytes:
    """The JSON a submitter sends for its next lot (``prefix`` names the run, for readers)."""
    sub = sign_event(org.key, lot_event(org, org.next_lot()))
    return json.dumps(sub.to_json()).encode("utf-8")


def parse(body: bytes) -> Submission:
    """What the server does with a submission's bytes before appending (its strict reader:
    no floats, no duplicate keys)."""
    return Submission.from_json(parse_json(body))


# --- setting up --------------------------------------------------------------------------


def scratch_pg(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A new empty PostgreSQL database and a function that drops it."""
    admin = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = f"tizbek_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


def register(log: SqlLog, authority: SigningKey, orgs: Sequence[Org]) -> None:
    """Register the submitting organisations, bind their keys and issue their labels."""
    subs = []
    for i, org in enumerate(orgs):
        subs.append(
            sign_event(
                authority,
                make_event(
                    "org.registered",
                    log=ORIGIN,
                    actor=AUTHORITY,
                    key=authority,
                    org=org.ident,
                    name=f"Collector {i}",
                    bin=f"{100000000000 + i:012d}",
                    roles=["collector"],
                    country="KZ",
                    region="Almaty",
                ),
            )
        )
        subs.append(
            sign_event(
                authority,
                make_event(
                    "key.bound",
                    log=ORIGIN,
                    actor=AUTHORITY,
                    key=authority,
                    org=org.ident,
                    public_key=org.key.public.base64,
                    key_id=org.key.key_id,
                    label="collector terminal",
                ),
            )
        )
        subs.append(
            sign_event(
                authority,
                make_event(
                    "labels.issued",
                    log=ORIGIN,
                    actor=AUTHORITY,
                    key=authority,
                    org=org.ident,
                    block=org.block,
                    count=ids.MAX_ISSUE,
                ),
            )
        )
    for result in log.append_batch(subs):
        if isinstance(result, Exception):
            raise result


# --- bulk loading ------------------------------------------------------------------------


@dataclass
class Tail:
    """Where a store's log ends: the next entry's seq and prev, and the tree's edge."""

    seq: int
    prev: bytes
    logged_at: str
    tree: CompactRange


def tail_of(engine: Engine) -> Tail:
    """Read the end of the log in ``engine``."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT seq, leaf_hash, logged_at FROM log_entries ORDER BY seq DESC LIMIT 1"
        ).one()
        tree = CompactRange.from_reader(node_reader(conn), row[0] + 1)
    return Tail(row[0], bytes(row[1]), row[2], tree)


def settle(stores: Sequence[Store]) -> None:
    """Let the databases and the disk finish writing what the bulk load left behind.

    A load writes gigabytes in minutes; a live log never does. Measured
    straight after it, appends compete with PostgreSQL's checkpoint and the
    kernel's writeback of the load for the disk, and every commit's flush
    waits behind them (the rates at 1,000,000 entries came out a third lower).
    So: PostgreSQL checkpoints, SQLite's write-ahead log is moved into its
    file, and the kernel writes out every dirty page, before any measurement.
    """
    for store in stores:
        with store.engine.connect() as conn:
            if store.name == "postgresql":
                conn.exec_driver_sql("CHECKPOINT")
            else:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.commit()
    os.sync()


def log_size(engine: Engine) -> int:
    """How many entries the log in ``engine`` holds."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT max(seq) + 1 FROM log_entries").scalar_one())


def leaf_data(engine: Engine, start: int, end: int | None = None) -> list[bytes]:
    """The leaf data of a SQLite log's entries ``start`` to ``end - 1`` (to the last)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT data FROM log_entries WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, log_size(engine) if end is None else end),
        ).all()
    return [bytes(r[0]) for r in rows]


class Registry:
    """The documents a lot's registration reads: its collector's organisation and labels."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            state = SqlState(conn)
            genesis = state.genesis()
            assert genesis is not None
            rows = conn.exec_driver_sql(
                "SELECT kind, subject, doc FROM subject_docs WHERE kind IN ('org', 'labels')"
            ).all()
        self.docs: dict[tuple[str, str], Any] = {(k, s): json.loads(d) for k, s, d in rows}
        self.rules = Custody(self, authority_id=genesis.authority_id, rules=genesis.rules)

    def doc(self, kind: str, ident: str) -> Any:
        """A registry document (lots are new, so never found)."""
        return self.docs.get((kind, ident))

    def event_at(self, seq: int) -> None:
        """Registrations read no earlier event."""
        return None


@dataclass
class Projected:
    """What a chunk of registrations adds to the projections, from entry ``first`` on."""

    first: int
    docs: dict[tuple[str, str], Any]
    flows: list[tuple[Any, ...]]


class Loader:
    """Writes signed, chained entries with their nodes and projections into every store.

    Each event is signed once; each store chains it after its own last entry.
    The custody rules make each lot's document and flows, as the append path
    would, so the tables the append path reads hold a row per lot.
    """

    def __init__(self, stores: Sequence[Store], orgs: Sequence[Org]) -> None:
        self.stores = stores
        self.orgs = orgs
        self.tails = [tail_of(store.engine) for store in stores]
        self.registry = Registry(stores[0].engine)

    def grow_to(self, size: int, chunk: int = 50_000) -> float:
        """Add entries until the shortest log holds ``size``; return the seconds it took."""
        start = time.perf_counter()
        while (missing := size - min(t.seq + 1 for t in self.tails)) > 0:
            self._chunk(min(chunk, missing))
        for store in self.stores:
            if store.name == "postgresql":
                with store.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
        settle(self.stores)
        return time.perf_counter() - start

    def _project(self, first: int, logged_at: str, events: list[dict[str, Any]]) -> Projected:
        docs: dict[tuple[str, str], Any] = {}
        rows: list[tuple[Any, ...]] = []
        for seq, event in enumerate(events, start=first):
            changed = self.registry.rules.apply(event, seq=seq, logged_at=logged_at).docs
            rows += [f.row() for f in flows.flows_of(seq, event, changed, self.registry.doc)]
            docs.update(changed)
        return Projected(first, docs, rows)

    def _chunk(self, count: int) -> None:
        subs = []
        for n in range(count):
            org = self.orgs[n % len(self.orgs)]
            lot = org.next_lot()
            subs.append((lot, sign_event(org.key, lot_event(org, lot))))
        logged_at = max(utc_now(), *(tail.logged_at for tail in self.tails))
        projected: Projected | None = None
        for store, tail in zip(self.stores, self.tails, strict=True):
            if projected is None or projected.first != tail.seq + 1:
                projected = self._project(tail.seq + 1, logged_at, [sub.event for _, sub in subs])
            entries, nodes, heads = [], [], {}
            for lot, sub in subs:
                entry = Entry.build(
                    seq=tail.seq + 1, prev=tail.prev, logged_at=logged_at, submission=sub
                )
                event = entry.event
                entries.append(
                    (entry.seq, entry.hash, entry.data, event["key"], event["nonce"], logged_at)
                )
                nodes.extend(tail.tree.append(entry.hash))
                heads[("lot", lot)] = entry.hash
                tail.seq, tail.prev, tail.logged_at = entry.seq, entry.hash, logged_at
            _write_rows(store.engine, entries, nodes, heads, projected)


def _write_rows(
    engine: Engine,
    entries: list[tuple[Any, ...]],
    nodes: list[tuple[int, int, bytes]],
    heads: dict[tuple[str, str], bytes],
    projected: Projected,
) -> None:
    tables = [
        ("log_entries (seq, leaf_hash, data, signer_key, nonce, logged_at)", entries),
        ("tree_nodes (level, idx, hash)", nodes),
        ("subject_heads (kind, subject, head_hash)", [(*k, h) for k, h in heads.items()]),
    ]
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        raw: Any = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur:
                for target, rows in tables:
                    with cur.copy(f"COPY {target} FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        else:
            for target, rows in tables:
                marks = ", ".join("?" * len(rows[0]))
                raw.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)
        driver = Driver(conn)
        write_docs(driver, projected.docs, lambda kind, ident: heads.get((kind, ident)))
        write_flows(driver, projected.flows)
