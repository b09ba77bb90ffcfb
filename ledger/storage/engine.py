"""Database URLs and engines: SQLite (a WAL file, the default) or PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

#: Where the log lives unless ``TIZBEK_DATABASE_URL`` says otherwise.
DEFAULT_SQLITE_FILE = "tizbek.db"
URL_ENV = "TIZBEK_DATABASE_URL"


def database_url(environ: dict[str, str] | None = None) -> str:
    """The configured database URL: ``TIZBEK_DATABASE_URL``, else a SQLite file here."""
    env = os.environ if environ is None else environ
    url = env.get(URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


#: Execution option that makes a transaction take the write lock at once
#: (``BEGIN IMMEDIATE`` on SQLite), so only one sequencer appends at a time.
WRITE = "tizbek_write"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, begins transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer appends; FULL makes every commit durable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 32 MiB of page cache instead of SQLite's 2 MiB: the append path's lookups (nonces,
    # heads, documents) land on index pages all over a large log's file.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Straight to the driver: the toolkit's own execution of so short a statement cost a
    # lone append more than SQLite's work for it.
    raw: Any = conn.connection.driver_connection
    raw.execute("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL and full durability."""
    if url.startswith("postgresql:"):
        url = "postgresql+psycopg:" + url.removeprefix("postgresql:")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before each use of a pooled connection: it cost every proof a second round
    # trip (a tenth of the proof rate). A connection the server dropped fails the one
    # request that finds it, as a 503 the client may retry, and the pool starts afresh.
    return create_engine(url, pool_pre_ping=False)
