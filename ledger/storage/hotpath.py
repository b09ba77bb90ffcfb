"""The append path's statements, sent straight to the database driver.

A batch runs a handful of statements whose shape never changes; building them
through the SQL toolkit cost more Python time than the database took to run
them. Here they are plain SQL in each driver's parameter style, run on the
connection (and so inside the transaction) that the toolkit opened. On
PostgreSQL a list parameter becomes one array (``= ANY(%b)``, in binary), so the server
plans each statement once; on SQLite it expands to ``IN (?, ...)``. A batch's inserts
into a dozen tables go to PostgreSQL as one statement (:meth:`Driver.gathered`); on
SQLite, where a statement costs no round trip, each table has its own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection

from ledger.errors import StorageError

Query = tuple[str, Sequence[object]]
"""SQL text with ``?`` placeholders, and its parameters."""

_Insert = tuple[str, Sequence[tuple[str, str]], Sequence[Sequence[object]], str]


def _from_json(kind: str, at: int) -> str:
    """The SQL that reads column ``at`` of a row sent as a JSON array (bytes travel as hex)."""
    if kind == "bytea":
        return f"decode(r->>{at}, 'hex')"
    if kind == "text":
        return f"r->>{at}"
    return f"(r->>{at})::{kind}"


def _json_rows(rows: Sequence[Sequence[object]]) -> str:
    return orjson.dumps(rows, default=bytes.hex).decode()


@functools.lru_cache(maxsize=64)
def _sqlite_insert(table: str, names: tuple[str, ...], conflict: str) -> str:
    """The SQLite ``INSERT`` of ``names`` into ``table``, made once per shape."""
    marks = ", ".join("?" * len(names))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) {conflict}"  # noqa: S608


class Driver:
    """Plain statements on the driver connection under one open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.raw: Any = conn.connection.driver_connection
        # Binary parameters on PostgreSQL: a batch's arrays of text and bytes travel as they
        # are, where the text format escaped each element (seven times the cost).
        self.mark = "%b" if self.postgres else "?"
        #: Inserts held back by :meth:`gathered`, sent as one statement.
        self._gathered: list[_Insert] | None = None

    def sql(self, text: str) -> str:
        """``text`` with each ``?`` in this driver's parameter style."""
        return text.replace("?", self.mark) if self.postgres else text

    def any_of(self, text: str, values: Sequence[object], before: Sequence[object] = ()) -> Query:
        """A query whose ``= ANY(?)`` condition takes the list ``values``.

        Only placeholders are put into the text; every value is a parameter.
        """
        if self.postgres:
            return text, [*before, list(values)]
        marks = "IN (" + ", ".join("?" * len(values)) + ")"
        return text.replace("= ANY(?)", marks), [*before, *values]

    def rows_in(
        self, text: str, values: Sequence[object], before: Sequence[object] = ()
    ) -> list[tuple[Any, ...]]:
        """Run :meth:`any_of`'s query; return all its rows."""
        return self.rows(*self.any_of(text, values, before))

    def tree_nodes(self, nodes: Sequence[tuple[int, int]]) -> list[tuple[Any, ...]]:
        """The stored ``(level, idx, hash)`` rows of these Merkle nodes, in one query."""
        if self.postgres:
            return self.rows(
                "SELECT t.level, t.idx, t.hash FROM tree_nodes AS t "
                "JOIN unnest(?::smallint[], ?::bigint[]) AS w(level, idx) "
                "ON t.level = w.level AND t.idx = w.idx",
                [[lv for lv, _ in nodes], [ix for _, ix in nodes]],
            )
        text = (
            "WITH w(level, idx) AS (VALUES PAIRS) SELECT t.level, t.idx, t.hash "
            "FROM w CROSS JOIN tree_nodes AS t ON t.level = w.level AND t.idx = w.idx"
        )
        return self.rows(
            text.replace("PAIRS", ", ".join(["(?, ?)"] * len(nodes))),
            [x for node in nodes for x in node],
        )

    def tree_runs(self, runs: Sequence[tuple[int, int, int]]) -> list[tuple[Any, ...]]:
        """The stored ``(level, idx, hash)`` rows with ``first <= idx <= last`` at ``level``,
        for each ``(level, first, last)``, in one query (nodes that do not exist are absent)."""
        if self.postgres:
            # Each run its own index range scan, whatever the planner guesses: as a plain
            # join, the generic plan of the prepared statement hashed the whole table instead
            # (28 ms against 0.5 ms at 80,000 nodes). The LIMIT, a run's length, keeps the
            # subquery from being flattened into such a join.
            return self.rows(
                "SELECT t.level, t.idx, t.hash "
                "FROM unnest(?::smallint[], ?::bigint[], ?::bigint[]) AS w(level, lo, hi) "
                "CROSS JOIN LATERAL (SELECT n.level, n.idx, n.hash FROM tree_nodes AS n "
                "WHERE n.level = w.level AND n.idx BETWEEN w.lo AND w.hi "
                "ORDER BY n.idx LIMIT w.hi - w.lo + 1) AS t",
                [[run[0] for run in runs], [run[1] for run in runs], [run[2] for run in runs]],
            )
        text = (
            "WITH w(level, lo, hi) AS (VALUES RUNS) SELECT t.level, t.idx, t.hash "
            "FROM w CROSS JOIN tree_nodes AS t ON t.level = w.level AND t.idx BETWEEN w.lo AND w.hi"
        )
        return self.rows(
            text.replace("RUNS", ", ".join(["(?, ?, ?)"] * len(runs))),
            [x for run in runs for x in run],
        )

    def rows_of_all(self, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
        """Run several queries in order; on PostgreSQL, in one round trip.

        The server still runs them one after the other, each seeing what the
        one before it waited for (a lock taken first holds for the rest).
        """
        if not (self.postgres and isinstance(self.raw, psycopg.Connection)):
            return [self.rows(text, params) for text, params in queries]
        cursors = [self.raw.cursor() for _ in queries]
        try:
            with self._lost(), self.raw.pipeline():
                for cur, (text, params) in zip(cursors, queries, strict=True):
                    cur.execute(self.sql(text) if params else text, params)
            return [list(cur.fetchall()) for cur in cursors]
        finally:
            for cur in cursors:
                cur.close()

    def rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a query; return all its rows."""
        if not self.postgres:
            return list(self.raw.execute(text, params).fetchall())
        cur = self.raw.cursor()
        try:
            with self._lost():
                cur.execute(self.sql(text) if params else text, params)
                return list(cur.fetchall())
        finally:
            cur.close()

    def many(self, text: str, rows: Sequence[Sequence[object]]) -> None:
        """Run a statement once per row of parameters."""
        if not rows:
            return
        if not self.postgres:
            self.raw.executemany(text, rows)
            return
        cur = self.raw.cursor()
        try:
            with self._lost():
                cur.executemany(self.sql(text), rows)
        finally:
            cur.close()

    def insert(
        self,
        table: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[object]],
        conflict: str = "",
    ) -> None:
        """Insert ``rows`` into ``table``; ``columns`` are (name, PostgreSQL type) pairs.

        On PostgreSQL the rows travel as one array per column in a single
        statement; on SQLite, one statement runs per row. ``conflict`` is an
        ``ON CONFLICT`` clause both understand. Table and column names come
        from this package's own constants; every value is a parameter.
        """
        if not rows:
            return
        if self._gathered is not None:
            if any(table == held for held, *_ in self._gathered):
                self._send_gathered()
            self._gathered.append((table, columns, rows, conflict))
            return
        if self.postgres:
            names = ", ".join(name for name, _ in columns)
            arrays = ", ".join(f"%b::{kind}[]" for _, kind in columns)
            text = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}"  # noqa: S608
            self.rows_no_result(text, [list(col) for col in zip(*rows, strict=True)])
        else:
            self.many(_sqlite_insert(table, tuple([name for name, _ in columns]), conflict), rows)

    def rows_no_result(self, text: str, params: Sequence[object]) -> None:
        """Run a statement that returns no rows, already in this driver's parameter style."""
        cur = self.raw.cursor()
        try:
            with self._lost():
                cur.execute(text, params)
        finally:
            cur.close()

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """On PostgreSQL, send the inserts made inside as one statement when the block ends.

        Each table's rows travel as one JSON parameter, read back on the
        server, and every insert is a part of one ``WITH`` statement: a
        batch's dozen inserts cost the driver one statement instead of twelve,
        and the arrays of a dozen columns each need no Python work to encode.
        The tables are distinct; an insert into a table already gathered first
        sends what was gathered. (On SQLite each insert runs at once.)
        """
        if not self.postgres or self._gathered is not None:
            yield
            return
        self._gathered = []
        try:
            yield
            self._send_gathered()
        finally:
            self._gathered = None

    def _send_gathered(self) -> None:
        held, self._gathered = self._gathered or [], []
        if not held:
            return
        parts, params = [], []
        for table, columns, rows, conflict in held:
            names = ", ".join(name for name, _ in columns)
            values = ", ".join(_from_json(kind, at) for at, (_, kind) in enumerate(columns))
            parts.append(
                f"INSERT INTO {table} ({names}) SELECT {values} "  # noqa: S608
                f"FROM jsonb_array_elements(%s::jsonb) AS r {conflict}"
            )
            params.append(_json_rows(rows))
        *first, last = parts
        ctes = ", ".join(f"w{n} AS ({part})" for n, part in enumerate(first))
        self.rows_no_result(f"WITH {ctes} {last}" if ctes else last, params)

    @contextmanager
    def pipelined(self, *, commit: bool = False) -> Iterator[None]:
        """On PostgreSQL, send the statements inside without waiting for each answer.

        With ``commit``, the transaction's COMMIT goes in the same round trip,
        and leaving the block means the server has made it durable (the
        toolkit's own commit afterwards finds nothing left to do).
        """
        if self.postgres and isinstance(self.raw, psycopg.Connection):
            with self._lost(), self.raw.pipeline():
                yield
                if commit:
                    self.raw.commit()
        else:
            yield

    @contextmanager
    def _lost(self) -> Iterator[None]:
        """Turn a connection the server dropped into a :class:`StorageError`, and make the
        toolkit's pool start afresh, as it does itself when it sees one (every pooled
        connection to a restarted server is dead too)."""
        try:
            yield
        except psycopg.OperationalError as exc:
            if not self.raw.closed:
                raise
            self.conn.invalidate()
            self.conn.engine.dispose(close=False)
            raise StorageError("the connection to the database was lost; try again") from exc
