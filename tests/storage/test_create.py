"""tizbek init: a new log with its keys, genesis entry and first checkpoint."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from ledger.keys import SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.engine import make_engine
from tests.tizbek_cli import run_tizbek


def test_init_creates_a_log_and_refuses_twice(tmp_path: Path, database_url: str) -> None:
    env = {"TIZBEK_DATABASE_URL": database_url, "TIZBEK_KEY_DIR": str(tmp_path / "k")}

    def tizbek(*args: str) -> subprocess.CompletedProcess[str]:
        return run_tizbek(*args, cwd=tmp_path, env=env)

    run = tizbek("init", "--origin", "test.tizbek.kz/log")
    assert run.returncode == 0, run.stderr
    assert "origin: test.tizbek.kz/log" in run.stdout
    log_key = SigningKey.load(tmp_path / "k" / "log.key")
    for name in ("log.key", "authority.key"):
        assert stat.S_IMODE((tmp_path / "k" / name).stat().st_mode) == 0o600
    assert "log verifier key: test.tizbek.kz/log+" in run.stdout
    engine = make_engine(database_url)
    report = audit_database(engine)
    engine.dispose()
    assert (report.entries, report.checkpoints) == (1, 1)
    again = tizbek("init", "--origin", "test.tizbek.kz/log")
    assert again.returncode == 2
    assert "already holds a log" in again.stderr
    assert SigningKey.load(tmp_path / "k" / "log.key").key_id == log_key.key_id


def test_init_refuses_to_replace_existing_keys(tmp_path: Path, database_url: str) -> None:
    keys = tmp_path / "k"
    keys.mkdir()
    SigningKey.generate().save(keys / "authority.key")
    env = {"TIZBEK_DATABASE_URL": database_url, "TIZBEK_KEY_DIR": str(keys)}
    run = run_tizbek("init", cwd=tmp_path, env=env)
    assert run.returncode == 2
    assert "refusing to replace a log's key" in run.stderr
    assert not (keys / "log.key").exists()
