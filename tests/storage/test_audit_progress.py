"""The database audit tells how far it is, and audits one snapshot of a log that grows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from ledger.demo import build_demo_log
from ledger.storage import audit, migrate
from ledger.storage.audit import audit_database
from ledger.storage.backup import export_header, import_lines
from ledger.storage.engine import make_engine


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _store(engine: Engine, lots: int) -> int:
    demo = build_demo_log(lots=lots)
    header = export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])
    import_lines(engine, [header] + [e.data.decode() for e in demo.log.entries])
    return demo.log.size


def test_progress_counts_every_entry_up_to_the_total(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = _store(engine, 10)
    monkeypatch.setattr(audit, "BATCH", 7)
    told: list[tuple[int, int]] = []
    report = audit_database(engine, progress=lambda done, total: told.append((done, total)))
    assert report.entries == size
    expected = [(0, size), *((n, size) for n in range(7, size + 1, 7)), (size, size)]
    assert told == expected
    assert audit_database(engine).entries == size  # no callback: the same audit
