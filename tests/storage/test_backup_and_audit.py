"""Export, import and the database audit, on SQLite and PostgreSQL; tampering is named."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ledger.demo import DemoLog
from ledger.errors import BundleFormatError, VerificationError
from ledger.storage import migrate
from ledger.storage.audit import audit_database
from ledger.storage.backup import export_header, export_lines, import_lines
from ledger.storage.engine import make_engine
from tests.storage.logs import drop_guards
from tests.tizbek_cli import run_tizbek


def _lines(demo: DemoLog) -> list[str]:
    header = export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])
    return [header] + [e.data.decode() for e in demo.log.entries]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_import_audit_export_round_trip(engine: Engine, demo: DemoLog) -> None:
    lines = _lines(demo)
    checkpoint = import_lines(engine, lines)
    assert checkpoint.size == demo.log.size
    assert checkpoint.root == demo.log.checkpoints[-1][0].root
    report = audit_database(engine)
    assert (report.entries, report.checkpoints) == (18, 4)
    assert report.root == checkpoint.root
    assert list(export_lines(engine)) == lines
    assert audit_database(engine, from_seq=5).checked_from == 5
    with pytest.raises(BundleFormatError, match="already holds a log"):
        import_lines(engine, lines)


def test_import_refuses_a_tampered_file_and_writes_nothing(engine: Engine, demo: DemoLog) -> None:
    lines = _lines(demo)
    lines[10] = lines[10].replace('"items":40', '"items":41')
    with pytest.raises(VerificationError) as caught:
        import_lines(engine, lines)
    assert caught.value.seq == 9
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_entries")).scalar() == 0


def test_import_refuses_a_truncated_file(engine: Engine, demo: DemoLog) -> None:
    with pytest.raises(VerificationError) as caught:
        import_lines(engine, _lines(demo)[:-1])
    assert caught.value.check == "checkpoint"


def _audit_fails_at(engine: Engine, seq: int) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        audit_database(engine)
    assert caught.value.seq == seq, caught.value.message
    return caught.value


def test_a_changed_byte_in_an_entry_is_named(engine: Engine, demo: DemoLog) -> None:
    import_lines(engine, _lines(demo))
    drop_guards(engine)
    data = demo.log.entries[10].data.replace(b'"vehicle":"KZ 123', b'"vehicle":"KZ 124')
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_entries SET data = :d WHERE seq = 10"), {"d": data})
    _audit_fails_at(engine, 10)


def test_a_changed_merkle_node_is_named(engine: Engine, demo: DemoLog) -> None:
    import_lines(engine, _lines(demo))
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tree_nodes SET hash = :h WHERE level = 1 AND idx = 2"), {"h": bytes(32)}
        )
    error = _audit_fails_at(engine, 4)
    assert error.check == "node"


def test_a_deleted_tail_is_caught_against_the_last_checkpoint(
    engine: Engine, demo: DemoLog
) -> None:
    import_lines(engine, _lines(demo))
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM log_entries WHERE seq = 17"))
    error = _audit_fails_at(engine, 17)
    assert error.check == "checkpoint"


def test_cli_export_import_verify(tmp_path: Path, database_url: str, demo: DemoLog) -> None:
    source = tmp_path / "log.jsonl"
    source.write_text("\n".join(_lines(demo)) + "\n")

    def tizbek(*args: str) -> subprocess.CompletedProcess[str]:
        return run_tizbek(*args, cwd=tmp_path, env={"TIZBEK_DATABASE_URL": database_url})

    run = tizbek("import", str(source))
    assert run.returncode == 0, run.stderr
    run = tizbek("verify", "--db", database_url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("OK: 18 entries")
    run = tizbek("export", str(tmp_path / "again.jsonl"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "again.jsonl").read_text() == source.read_text()
    assert tizbek("import", str(source)).returncode == 2  # not an empty database


def test_a_failure_after_batches_were_written_leaves_the_database_empty(
    engine: Engine, demo: DemoLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.storage import backup

    monkeypatch.setattr(backup, "BATCH", 2)
    lines = _lines(demo)
    lines[13] = lines[13].replace('"outcome":"accepted"', '"outcome":"refused"')
    with pytest.raises(VerificationError) as caught:
        import_lines(engine, lines)
    assert caught.value.seq == 12
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_entries")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM tree_nodes")).scalar() == 0
    import_lines(engine, _lines(demo))
    assert audit_database(engine).entries == 18
