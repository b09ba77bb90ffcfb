"""An appending process killed with SIGKILL at random moments loses no acknowledged entry."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.tizbek_cli import ROOT

KILLS = 20


def test_sigkill_during_appends(tmp_path: Path, database_url: str) -> None:
    keys = tmp_path / "k"
    create_log(
        database_url, keys=keys, origin="k.tizbek.kz/log", authority_id="auth", authority_name="A"
    )
    engine = make_engine(database_url)
    log = SqlLog.open(engine, keys / "log.key")
    authority = SigningKey.load(keys / "authority.key")
    key = SigningKey.generate()
    key.save(tmp_path / "org.key")
    bound = make_event(
        "key.bound",
        log=log.signer.name,
        actor="auth",
        key=authority,
        org="org",
        public_key=key.public.base64,
        key_id=key.key_id,
        label="worker",
    )
    log.append(sign_event(authority, bound))
    ack = tmp_path / "ack"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(20261122)
    for run in range(KILLS):
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.appender",
                database_url,
                str(keys),
                str(tmp_path / "org.key"),
                "org",
                "100000",
                str(ack),
                f"run{run}",
            ],
            cwd=ROOT,
            env=env,
        )
        time.sleep(rng.uniform(0.6, 1.5))  # start-up takes most of the first half second
        child.send_signal(signal.SIGKILL)
        child.wait()
        report = audit_database(engine)  # the log verifies after every kill
        acknowledged = [line.split() for line in ack.read_text().splitlines() if line.strip()]
        with engine.connect() as conn:
            stored = {
                seq: bytes(h).hex()
                for seq, h in conn.execute(text("SELECT seq, leaf_hash FROM log_entries"))
            }
        for seq, leaf in acknowledged:
            assert stored.get(int(seq)) == leaf, (
                f"acknowledged entry {seq} is gone after kill {run}"
            )
        assert report.entries == len(stored)
    assert len(acknowledged) > KILLS  # the kills did land among appends
    engine.dispose()
