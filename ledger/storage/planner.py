"""Keeping PostgreSQL's planner statistics in step with a growing log.

Every lookup on the append path (nonces, subjects' heads and documents, keys)
goes by an index, but PostgreSQL only takes the index if its statistics say
the table is large. A log's tables start empty; where autovacuum is off, or
has not yet come round, the planner still believes them small at a million
rows and scans them whole: measured on this project's benchmark, a batch's
lookups went from 1 ms to 17 ms within 20,000 entries. A long-running
sequencer (``tizbek serve``) therefore runs ``ANALYZE`` itself, in a thread of
its own, each time the log has doubled since the statistics were last taken:
some twenty times on the way to a million entries, and never on the append
path. (``ANALYZE`` takes no lock that blocks appends or reads, and it also
makes PostgreSQL plan the prepared statements again.)

The plans need the tables' sizes and a rough spread of their keys, not fine
selectivities, so the statistics are taken from a small sample (a target of
10: 3,000 rows a table instead of 30,000, a quarter of the work), one table at
a time, pausing after each for as long as it took. A whole-database
``ANALYZE`` at the default target held a core for a third of a second at
27,000 entries, and for 1.2 to 2.7 s on a loaded two-core server,
where the appends queued behind it. Taken this way, each statement lasted 70 ms
at most in the API benchmark (once 460 ms, with both cores saturated), and a
round uses at most half of a core.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, text

log = logging.getLogger("tizbek.planner")

#: Below this many entries every plan is fast; no statistics are taken.
SMALLEST = 1_000

#: PostgreSQL's statistics target for the tables' samples (300 rows per unit).
STATISTICS_TARGET = 10


class PlannerStatistics:
    """Takes statistics of the log's database each time the log doubles in size."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: The log size at which to take statistics next (None: not known yet).
        self.due: int | None = None
        self.taken = 0
        self._busy = threading.Lock()
        self._stopping = threading.Event()

    def appended(self, size: int) -> None:
        """Note that the log now holds ``size`` entries; take statistics if they are due."""
        if self.due is None:
            self.due = max(SMALLEST, 2 * self._counted())
        if size < self.due or self._stopping.is_set() or not self._busy.acquire(blocking=False):
            return
        self.due = 2 * size
        threading.Thread(target=self._analyze, name="tizbek-analyze", daemon=True).start()

    def wait(self) -> None:
        """Return once no statistics are being taken."""
        with self._busy:
            pass

    def stop(self) -> None:
        """Take no more statistics: end a round under way after its current table."""
        self._stopping.set()
        self.wait()

    def _counted(self) -> int:
        """How many entries the statistics last taken counted (0 if never taken)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'log_entries'")
            ).scalar_one_or_none()
        return max(0, int(found or 0))

    def _tables(self) -> list[str]:
        """The log database's tables, each quoted as a name for SQL."""
        quote = self.engine.dialect.identifier_preparer.quote
        with self.engine.connect() as conn:
            found = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            return sorted(quote(name) for name in found)

    def _analyze(self) -> None:
        try:
            for table in self._tables():
                started = time.perf_counter()
                with self.engine.begin() as conn:
                    conn.execute(text(f"SET LOCAL default_statistics_target = {STATISTICS_TARGET}"))
                    conn.execute(text(f"ANALYZE {table}"))
                if self._stopping.wait(time.perf_counter() - started):
                    return
            self.taken += 1
        except Exception:  # statistics are an optimisation: the log goes on without them
            log.exception("taking planner statistics failed")
        finally:
            self._busy.release()
