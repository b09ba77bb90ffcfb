"""A stored log with organisations whose keys child processes use to append (for the tests)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from multiprocessing.process import BaseProcess
from pathlib import Path

from sqlalchemy import Engine

from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.storage.appender import append_lots
from tests.storage.logs import block_of
from tests.tizbek_cli import ROOT


def log_with_workers(tmp_path: Path, url: str, orgs: list[str]) -> tuple[Engine, SqlLog]:
    """Create a log at ``url``; register each org, bind its key (saved as
    ``tmp_path/ORG.key``) and issue it a block of labels (see ``logs.block_of``)."""
    keys = tmp_path / "k"
    create_log(url, keys=keys, origin="w.tizbek.kz/log", authority_id="auth", authority_name="A")
    engine = make_engine(url)
    log = SqlLog.open(engine, keys / "log.key")
    authority = SigningKey.load(keys / "authority.key")
    for org in orgs:
        key = SigningKey.generate()
        key.save(tmp_path / f"{org}.key")
        registered = make_event(
            "org.registered",
            log=log.signer.name,
            actor="auth",
            key=authority,
            org=org,
            name=f"Worker {org}",
            bin="210440000001",
            roles=["collector"],
            country="KZ",
            region="Almaty",
        )
        log.append(sign_event(authority, registered))
        bound = make_event(
            "key.bound",
            log=log.signer.name,
            actor="auth",
            key=authority,
            org=org,
            public_key=key.public.base64,
            key_id=key.key_id,
            label="worker",
        )
        log.append(sign_event(authority, bound))
        labels = make_event(
            "labels.issued",
            log=log.signer.name,
            actor="auth",
            key=authority,
            org=org,
            block=block_of(org),
            count=100_000,
        )
        log.append(sign_event(authority, labels))
    return engine, log


def start_appender(
    tmp_path: Path, url: str, org: str, count: int, ack: Path, first: int
) -> subprocess.Popen[bytes]:
    """A child process appending ``count`` lots as ``org`` from label ``first`` on,
    acknowledging each in ``ack``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.storage.appender",
            url,
            str(tmp_path / "k"),
            str(tmp_path / f"{org}.key"),
            org,
            str(count),
            str(ack),
            str(first),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def fork_appender(
    tmp_path: Path, url: str, org: str, count: int, ack: Path, first: int, interval: float = 0.0
) -> BaseProcess:
    """``start_appender``, forked from this process: the child starts in milliseconds
    instead of a second of imports, so a test can kill many of them. The child opens
    connections of its own and never touches the parent's. With ``interval``, it signs
    checkpoints only that often (see ``SqlLog.checkpoint_interval``)."""
    child = multiprocessing.get_context("fork").Process(
        target=append_lots,
        args=(
            url,
            str(tmp_path / "k"),
            str(tmp_path / f"{org}.key"),
            org,
            count,
            str(ack),
            first,
            interval,
        ),
        daemon=True,
    )
    child.start()
    return child
