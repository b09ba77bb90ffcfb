"""Several processes appending at once leave one gap-free chain that verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.audit import audit_database
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.tizbek_cli import ROOT

PROCESSES = 8
APPENDS = 200


def test_eight_processes_append_two_hundred_each(tmp_path: Path, database_url: str) -> None:
    keys = tmp_path / "k"
    create_log(
        database_url, keys=keys, origin="c.tizbek.kz/log", authority_id="auth", authority_name="A"
    )
    engine = make_engine(database_url)
    log = SqlLog.open(engine, keys / "log.key")
    authority = SigningKey.load(keys / "authority.key")
    for n in range(PROCESSES):
        key = SigningKey.generate()
        key.save(tmp_path / f"org{n}.key")
        bound = make_event(
            "key.bound",
            log=log.signer.name,
            actor="auth",
            key=authority,
            org=f"org{n}",
            public_key=key.public.base64,
            key_id=key.key_id,
            label="worker",
        )
        log.append(sign_event(authority, bound))
    base = 1 + PROCESSES
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.appender",
                database_url,
                str(keys),
                str(tmp_path / f"org{n}.key"),
                f"org{n}",
                str(APPENDS),
                str(tmp_path / f"ack{n}"),
            ],
            cwd=ROOT,
            env=env,
        )
        for n in range(PROCESSES)
    ]
    assert [c.wait(timeout=600) for c in children] == [0] * PROCESSES
    with engine.connect() as conn:
        seqs = [row[0] for row in conn.execute(text("SELECT seq FROM log_entries ORDER BY seq"))]
    assert seqs == list(range(base + PROCESSES * APPENDS))
    report = audit_database(engine)  # one linear chain: every prev link, node and checkpoint
    assert report.entries == base + PROCESSES * APPENDS
    acknowledged = [
        line.split()
        for n in range(PROCESSES)
        for line in (tmp_path / f"ack{n}").read_text().splitlines()
    ]
    assert len(acknowledged) == PROCESSES * APPENDS
    engine.dispose()
