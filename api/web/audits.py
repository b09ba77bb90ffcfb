"""The full audit an inspector starts from the app: one at a time per server process.

:class:`Audits` runs :func:`ledger.storage.audit.audit_database` over the
stored log in a background thread and keeps what the page polls: entries
checked of the log's size, then the outcome (every entry, node and checkpoint
verified; the first broken hash, link, signature, node or checkpoint with its
seq; or the custody rules the replay found broken). Asking to start while an
audit runs returns the running one.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from ledger.errors import TizbekError, VerificationError
from ledger.storage.audit import AuditReport, audit_database
from ledger.storage.tables import CHECKPOINTS


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(error: VerificationError) -> dict[str, Any]:
    return {"seq": error.seq, "check": error.check, "message": error.message}


@dataclass
class AuditRun:
    """One audit: how far it is and, once done, what it found."""

    started: str
    #: ``running``, ``ok`` (everything verified), ``failed`` (a check failed or a rule was
    #: broken) or ``error`` (the audit could not run, e.g. the database went away).
    state: str = "running"
    checked: int = 0
    total: int = 0
    finished: str | None = None
    entries: int | None = None
    nodes: int | None = None
    checkpoints: int | None = None
    root: str | None = None
    #: The latest signed checkpoint the audit verified: its tree size and root.
    checkpoint: dict[str, Any] | None = None
    #: The first failed check: its seq (None for a checkpoint's signature), check and message.
    failure: dict[str, Any] | None = None
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        """Entries checked, in whole percent of the log (100 once finished)."""
        if self.state != "running":
            return 100
        return 0 if self.total == 0 else min(100, 100 * self.checked // self.total)

    def as_json(self) -> dict[str, Any]:
        """What the progress endpoint answers."""
        return {
            "state": self.state,
            "started": self.started,
            "finished": self.finished,
            "checked": self.checked,
            "total": self.total,
            "percent": self.percent,
            "entries": self.entries,
            "nodes": self.nodes,
            "checkpoints": self.checkpoints,
            "root": self.root,
            "checkpoint": self.checkpoint,
            "failure": self.failure,
            "violations": self.violations,
        }


class Audits:
    """The audit of this server process: at most one runs, the last one is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: AuditRun | None = None

    def current(self) -> AuditRun | None:
        """The running audit, else the last finished one, else None."""
        with self._lock:
            return self._run

    def start(self, engine: Engine) -> tuple[AuditRun, bool]:
        """Start an audit of ``engine``'s log unless one runs; return it and whether it is new."""
        with self._lock:
            if self._run is not None and self._run.state == "running":
                return self._run, False
            run = AuditRun(started=_now())
            self._run = run
        threading.Thread(
            target=self._audit, args=(engine, run), name="tizbek-audit", daemon=True
        ).start()
        return run, True

    def _audit(self, engine: Engine, run: AuditRun) -> None:
        def progress(checked: int, total: int) -> None:
            run.checked, run.total = checked, total

        try:
            report = audit_database(engine, progress=progress)
            self._record(engine, run, report)
        except VerificationError as exc:
            run.failure = _problem(exc)
            self._finish(run, "failed")
        except Exception as exc:  # whatever stops the audit, the run must end
            message = exc.message if isinstance(exc, TizbekError) else type(exc).__name__
            run.failure = {"seq": None, "check": "audit", "message": message}
            self._finish(run, "error")
        else:
            self._finish(run, "failed" if report.violations else "ok")

    @staticmethod
    def _record(engine: Engine, run: AuditRun, report: AuditReport) -> None:
        run.entries, run.nodes, run.checkpoints = report.entries, report.nodes, report.checkpoints
        run.root = report.root.hex()
        run.violations = [_problem(v) for v in report.violations]
        with engine.connect() as conn:
            latest = conn.execute(
                select(CHECKPOINTS.c.size, CHECKPOINTS.c.root)
                .where(CHECKPOINTS.c.size <= report.entries)
                .order_by(CHECKPOINTS.c.size.desc())
                .limit(1)
            ).first()
        if latest is not None:
            run.checkpoint = {"size": int(latest[0]), "root": bytes(latest[1]).hex()}

    def _finish(self, run: AuditRun, state: str) -> None:
        with self._lock:
            run.finished = _now()
            run.state = state
