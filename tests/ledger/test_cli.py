"""The tizbek command, run as a user runs it."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.demo import demo_lot
from ledger.keys import SigningKey
from ledger.note import NoteSigner, sign_note
from tests.tizbek_cli import run_tizbek


def tizbek(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_tizbek(*args, cwd=cwd)


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    run = tizbek("demo", "--out", "bundle.json", "--lots", "1", "--no-serve", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "OK: 18 entries" in run.stdout
    assert f"/l/{demo_lot(0)}" in run.stdout  # the scan page of the first lot's label
    return tmp_path / "bundle.json"


def test_verify_ok_prints_one_line(bundle_path: Path) -> None:
    run = tizbek("verify", str(bundle_path), cwd=bundle_path.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") == 1
    assert run.stdout.startswith("OK: 18 entries")


def test_verify_with_pinned_key(bundle_path: Path) -> None:
    key = json.loads(bundle_path.read_text())["log_key"]
    assert (
        tizbek("verify", str(bundle_path), "--log-key", key, cwd=bundle_path.parent).returncode == 0
    )
    other = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    run = tizbek("verify", str(bundle_path), "--log-key", other, cwd=bundle_path.parent)
    assert run.returncode == 1
    assert "not the trusted one" in run.stderr


def test_a_changed_byte_in_the_file_names_the_entry(bundle_path: Path) -> None:
    raw = bundle_path.read_bytes()
    # The lot registration (seq 9) declares 182500 g; make it 982500 g.
    start = raw.index(b'weight_g\\":182500', raw.index(b"lot.registered"))
    digit = start + len(b'weight_g\\":')
    bundle_path.write_bytes(raw[:digit] + b"9" + raw[digit + 1 :])
    run = tizbek("verify", str(bundle_path), cwd=bundle_path.parent)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith("tizbek: FAILED: seq 9: proof: ")
    assert run.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"{not json", "not valid JSON"), (b"{}", "bundle format")],
    ids=["missing", "not-json", "not-a-bundle"],
)
def test_unusable_input_exits_2(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_bytes(content)
    run = tizbek("verify", str(path), cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert run.stderr.count("\n") == 1


def test_keygen(tmp_path: Path) -> None:
    run = tizbek("keygen", "--out", "org.key", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    path = tmp_path / "org.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = SigningKey.load(path)
    assert f"key_id: {key.key_id}" in run.stdout
    assert f"public_key: {key.public.base64}" in run.stdout
    again = tizbek("keygen", "--out", "org.key", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert SigningKey.load(path).key_id == key.key_id


def _reorder(b: dict[str, Any]) -> None:
    b["entries"][2], b["entries"][3] = b["entries"][3], b["entries"][2]


def _drop(b: dict[str, Any]) -> None:
    del b["entries"][5]


def _insert(b: dict[str, Any]) -> None:
    b["entries"].insert(5, dict(b["entries"][4]))


def _foreign_checkpoint(b: dict[str, Any]) -> None:
    intruder = NoteSigner(b["checkpoint"].split("\n")[0], SigningKey.generate())
    b["checkpoint"] = sign_note(b["checkpoint"].split("\n\n")[0] + "\n", [intruder])
    b["log_key"] = str(intruder.verifier)


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (_reorder, "seq 2: order"),
        (_drop, "seq 5: order"),
        (_insert, "seq 4: order"),
        (_foreign_checkpoint, "seq 0: checkpoint"),
    ],
    ids=["reorder", "drop", "insert", "foreign-checkpoint"],
)
def test_tampered_bundle_files_fail_naming_the_entry(
    bundle_path: Path, tamper: Any, named: str
) -> None:
    bundle = json.loads(bundle_path.read_text())
    tamper(bundle)
    bundle_path.write_text(json.dumps(bundle))
    run = tizbek("verify", str(bundle_path), cwd=bundle_path.parent)
    assert run.returncode == 1
    assert run.stderr.startswith(f"tizbek: FAILED: {named}: "), run.stderr
