"""`tizbek serve` as a real process on a free port, for end-to-end and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.tizbek_cli import ROOT


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, what: str) -> None:
    """Return once ``url`` answers 200; after 30 s or so of refusals, fail naming ``what``."""
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not come up")


@contextmanager
def serving(
    env: dict[str, str], cwd: Path, *, workers: int = 1, options: Sequence[str] = ()
) -> Iterator[str]:
    """Run `tizbek serve` with ``env`` (and further ``options``) until the block ends; yield
    its base URL. Ending the block stops the server as an operator would (SIGTERM)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *options,
        ],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/v1/log", "tizbek serve")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serving_demo(where: Path, *, lots: int = 2) -> Iterator[tuple[str, str]]:
    """Run `tizbek demo` (which serves its log, in demo mode) in ``where``; yield its base URL
    and what it printed."""
    port = free_port()
    printed = where / "demo-stdout.txt"
    with printed.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "ledger", "demo", "--lots", str(lots), "--port", str(port)),
                *("--dir", str(where / "demo"), "--out", str(where / "bundle.json")),
            ],
            cwd=where,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise AssertionError(f"tizbek demo exited: {printed.read_text()}")
            try:
                if httpx.get(f"{base}/v1/log", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("tizbek demo did not come up")
        yield base, printed.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)
