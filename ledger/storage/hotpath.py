"""The append path's statements, sent straight to the database driver.

A batch runs a handful of statements whose shape never changes; building them
through the SQL toolkit cost more Python time than the database took to run
them. Here they are plain SQL in each driver's parameter style, run on the
connection (and so inside the transaction) that the toolkit opened. On
PostgreSQL a list parameter becomes one array (``= ANY(%s)``), so the server
plans each statement once; on SQLite it expands to ``IN (?, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection

Query = tuple[str, Sequence[object]]
"""SQL text with ``?`` placeholders, and its parameters."""


class Driver:
    """Plain statements on the driver connection under one open transaction."""

    def __init__(self, conn: Connection) -> None:
        self.postgres = conn.dialect.name == "postgresql"
        self.raw: Any = conn.connection.driver_connection
        self.mark = "%s" if self.postgres else "?"

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

    def rows_of_all(self, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
        """Run several queries in order; on PostgreSQL, in one round trip.

        The server still runs them one after the other, each seeing what the
        one before it waited for (a lock taken first holds for the rest).
        """
        if not (self.postgres and isinstance(self.raw, psycopg.Connection)):
            return [self.rows(text, params) for text, params in queries]
        cursors = [self.raw.cursor() for _ in queries]
        try:
            with self.raw.pipeline():
                for cur, (text, params) in zip(cursors, queries, strict=True):
                    cur.execute(self.sql(text) if params else text, params)
            return [list(cur.fetchall()) for cur in cursors]
        finally:
            for cur in cursors:
                cur.close()

    def rows(self, text: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a query; return all its rows."""
        cur = self.raw.cursor()
        try:
            cur.execute(self.sql(text) if params else text, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def many(self, text: str, rows: Sequence[Sequence[object]]) -> None:
        """Run a statement once per row of parameters."""
        if not rows:
            return
        cur = self.raw.cursor()
        try:
            cur.executemany(self.sql(text), rows)
        finally:
            cur.close()

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """On PostgreSQL, send the statements inside without waiting for each answer."""
        if self.postgres and isinstance(self.raw, psycopg.Connection):
            with self.raw.pipeline():
                yield
        else:
            yield
