"""`tizbek key bind` and `tizbek key revoke`: the enrolment path for a key made on a device."""

from __future__ import annotations

from pathlib import Path

from api.registry import key_binding
from ledger.keys import SigningKey
from ledger.storage.engine import make_engine
from ledger.storage.reader import LogReader
from tests.tizbek_cli import run_tizbek


def test_the_authority_binds_and_revokes_a_device_key(tmp_path: Path) -> None:
    assert (
        run_tizbek("demo", "--no-serve", "--lots", "1", "--dir", "d", cwd=tmp_path).returncode == 0
    )
    url = f"sqlite:///{tmp_path / 'd' / 'demo.db'}"
    env = {"TIZBEK_DATABASE_URL": url, "TIZBEK_KEY_DIR": str(tmp_path / "d" / "keys")}
    device = SigningKey.generate()
    bound = run_tizbek(
        "key", "bind", "--org", "almaty-collect", "--public-key", device.public.base64,
        "--label", "collection point phone 2", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert bound.returncode == 0, bound.stderr
    assert f"bound key {device.key_id} to almaty-collect in entry" in bound.stdout
    engine = make_engine(url)
    found = key_binding(LogReader(engine), device.key_id)
    assert found is not None
    assert (found["org"], found["label"], found["revoked_seq"]) == (
        "almaty-collect", "collection point phone 2", None,
    )  # fmt: skip

    revoked = run_tizbek(
        "key", "revoke", device.key_id, "--reason", "phone lost", cwd=tmp_path, env=env
    )
    assert revoked.returncode == 0, revoked.stderr
    found = key_binding(LogReader(engine), device.key_id)
    assert found is not None
    assert found["revoked_seq"] is not None
    engine.dispose()

    again = run_tizbek(
        "key", "bind", "--org", "almaty-collect", "--public-key", device.public.base64,
        "--label", "x", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert (again.returncode, "already bound" in again.stderr) == (1, True), again.stderr
    nobody = run_tizbek(
        "key", "bind", "--org", "nobody", "--public-key", SigningKey.generate().public.base64,
        "--label", "x", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert (nobody.returncode, "registered-org" in nobody.stderr) == (1, True), nobody.stderr
    garbled = run_tizbek(
        "key", "bind", "--org", "almaty-collect", "--public-key", "not base64!",
        "--label", "x", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert garbled.returncode == 2
    assert "base64" in garbled.stderr
