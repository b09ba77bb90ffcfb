"""End to end over HTTP: `tizbek serve` as a real process, a client written from the protocol.

The client below signs with nothing but `rfc8785` and `cryptography`, as
docs/protocol.md §3 describes: Ed25519 over the JCS bytes of the event, the
key id the SHA-256 of the raw public key. It plays a lot's whole life, fetches
the lot's bundle and verifies it offline with `tizbek verify`, and checks the
public checkpoint against an inclusion proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import verify_checkpoint
from ledger.merkle import verify_inclusion
from ledger.note import VerifierKey
from tests.serving import serving
from tests.tizbek_cli import run_tizbek


class Device:
    """A signing device: an Ed25519 key and the organisation it signs for."""

    def __init__(self, org: str, key: Ed25519PrivateKey | None = None) -> None:
        self.org = org
        self.key = key or Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = base64.b64encode(raw).decode()
        self.key_id = hashlib.sha256(raw).hexdigest()

    def sign(self, origin: str, etype: str, **fields: Any) -> dict[str, Any]:
        event = {
            "type": etype,
            "log": origin,
            "actor": self.org,
            "key": self.key_id,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "nonce": secrets.token_urlsafe(16),
            **fields,
        }
        signature = self.key.sign(rfc8785.dumps(event))
        return {"event": event, "sig": base64.b64encode(signature).decode()}


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def server(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, dict[str, str], Path]]:
    """`tizbek serve` over a new log: one worker that sequences for itself, or two that
    hand their submissions to the serving process's sequencer."""
    env = {"TIZBEK_DATABASE_URL": database_url, "TIZBEK_KEY_DIR": str(tmp_path / "keys")}
    made = run_tizbek(
        "init", "--origin", "e2e.tizbek.kz/log", "--authority-id", "kz-eco", cwd=tmp_path, env=env
    )
    assert made.returncode == 0, made.stderr
    with serving(env, tmp_path, workers=request.param) as base:
        yield base, env, tmp_path


#: Label 1 of block E2E0 with its check character, as docs/protocol.md defines it:
#: 9·14 + 8·2 + 7·14 + 2·1 + 1·6 = 248 = 8·31.
LOT = "E2E000016"


def test_a_lots_whole_life_over_http(server: tuple[str, dict[str, str], Path]) -> None:
    base, env, tmp = server
    origin = httpx.get(f"{base}/v1/log").json()["origin"]
    pem = (tmp / "keys" / "authority.key").read_bytes()
    authority_key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(authority_key, Ed25519PrivateKey)
    authority = Device("kz-eco", authority_key)
    devices = {org: Device(org) for org in ("almaty-collect", "steppe-haulage", "karaganda-rec")}
    heads: dict[str, str] = {}

    def send(device: Device, etype: str, **fields: Any) -> dict[str, Any]:
        answer = httpx.post(f"{base}/v1/events", json=device.sign(origin, etype, **fields))
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    roles = {
        "almaty-collect": "collector",
        "steppe-haulage": "transporter",
        "karaganda-rec": "recycler",
    }
    for n, (org, device) in enumerate(devices.items()):
        send(
            authority,
            "org.registered",
            org=org,
            name=org,
            bin=f"{210440000000 + n:012d}",
            roles=[roles[org]],
            country="KZ",
            region="Almaty",
        )
        send(
            authority,
            "key.bound",
            org=org,
            public_key=device.public,
            key_id=device.key_id,
            label="device",
        )
    year = datetime.now(UTC).year
    send(
        authority,
        "license.granted",
        org="karaganda-rec",
        license="KZ-7",
        valid_from=f"{year - 1}-01-01",
        valid_to=f"{year + 1}-12-31",
        waste_codes=["20 01 35*"],
        categories=[6],
        operations=["R4"],
    )
    send(authority, "labels.issued", org="almaty-collect", block="E2E0", count=24)
    collector, carrier, recycler = devices.values()
    lot = send(
        collector,
        "lot.registered",
        lot=LOT,
        category=6,
        waste_code="20 01 35*",
        hazardous=True,
        hp_codes=["HP14"],
        items=12,
        weight_g=48_000,
        weight_measured=True,
        source="household",
        site="Almaty",
    )
    sent = send(
        collector,
        "transfer.dispatched",
        transfer="T-E2E",
        to="karaganda-rec",
        transporter="steppe-haulage",
        vehicle="001 AB 02",
        lots=[{"lot": LOT, "after": lot["leaf_hash"], "weight_g": 48_000}],
    )
    taken = send(carrier, "transfer.taken_over", transfer="T-E2E", after=sent["leaf_hash"])
    got = send(
        recycler,
        "transfer.received",
        transfer="T-E2E",
        after=taken["leaf_hash"],
        lots=[{"lot": LOT, "after": sent["leaf_hash"], "weight_g": 47_600, "outcome": "accepted"}],
    )
    done_submission = recycler.sign(
        origin,
        "lot.processed",
        lot=LOT,
        after=got["leaf_hash"],
        operation="R4",
        outputs=[
            {"waste_code": "19 12 02", "material": "ferrous", "weight_g": 20_000},
            {"waste_code": "19 12 04", "material": "plastics", "weight_g": 25_000},
        ],
    )
    answer = httpx.post(f"{base}/v1/events", json=done_submission)
    assert answer.status_code == 201, answer.text
    done = answer.json()
    heads[LOT] = done["leaf_hash"]
    resent = httpx.post(f"{base}/v1/events", json=done_submission)
    assert (resent.status_code, resent.json()) == (200, done)
    refused = httpx.post(
        f"{base}/v1/events",
        json=recycler.sign(
            origin,
            "lot.processed",
            lot=LOT,
            after=done["leaf_hash"],
            operation="R4",
            outputs=[],
        ),
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "lot-state")

    made = run_tizbek(
        "token",
        "create",
        "--org",
        "kz-eco",
        "--role",
        "inspector",
        "--label",
        "e2e",
        cwd=tmp,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[-1]
    bundle = httpx.get(f"{base}/v1/lots/{LOT}/bundle", headers={"authorization": f"Bearer {token}"})
    assert bundle.status_code == 200
    (tmp / "lot.json").write_text(bundle.text)
    log_key = httpx.get(f"{base}/v1/log").json()["verifier_key"]
    offline = run_tizbek("verify", str(tmp / "lot.json"), "--log-key", log_key, cwd=tmp)
    assert offline.returncode == 0, offline.stderr

    note = httpx.get(f"{base}/v1/checkpoint").text
    checkpoint = verify_checkpoint(note, VerifierKey.parse(log_key))
    proof = httpx.get(
        f"{base}/v1/proof/inclusion", params={"seq": done["seq"], "size": checkpoint.size}
    ).json()
    verify_inclusion(
        index=done["seq"],
        size=checkpoint.size,
        leaf=bytes.fromhex(done["leaf_hash"]),
        proof=[bytes.fromhex(h) for h in proof["hashes"]],
        root=checkpoint.root,
    )
    assert json.loads(bundle.text)["checkpoint"] == note


@pytest.mark.parametrize("workers", [1, 2], ids=["1-worker", "2-workers"])
def test_checkpoints_at_an_interval_over_http(
    database_url: str, tmp_path: Path, workers: int
) -> None:
    """With TIZBEK_CHECKPOINT_INTERVAL, appends are answered at once and the public
    checkpoint catches up within the interval; stopping the server signs for the rest."""
    env = {
        "TIZBEK_DATABASE_URL": database_url,
        "TIZBEK_KEY_DIR": str(tmp_path / "keys"),
        "TIZBEK_CHECKPOINT_INTERVAL": "1.5",
    }
    made = run_tizbek("init", "--origin", "e2e.tizbek.kz/log", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    pem = (tmp_path / "keys" / "authority.key").read_bytes()
    authority_key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(authority_key, Ed25519PrivateKey)
    authority = Device("authority", authority_key)

    def register(base: str, n: int) -> int:
        event = authority.sign(
            "e2e.tizbek.kz/log",
            "org.registered",
            org=f"org-{n}",
            name=f"Org {n}",
            bin=f"{210440000000 + n:012d}",
            roles=["collector"],
            country="KZ",
            region="Almaty",
        )
        answer = httpx.post(f"{base}/v1/events", json=event)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["seq"])

    def covered(base: str) -> int:
        note = httpx.get(f"{base}/v1/checkpoint").text
        log_key = VerifierKey.parse(httpx.get(f"{base}/v1/log").json()["verifier_key"])
        return verify_checkpoint(note, log_key).size

    with serving(env, tmp_path, workers=workers) as base:
        assert [register(base, n) for n in (1, 2, 3)] == [1, 2, 3]
        assert covered(base) < 4  # answered before a checkpoint covered them
        deadline = time.monotonic() + 15
        while covered(base) < 4:
            assert time.monotonic() < deadline, "no checkpoint covered the entries"
            time.sleep(0.05)
        assert register(base, 4) == 4
    audit = run_tizbek("verify", "--db", database_url, cwd=tmp_path, env=env)
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.startswith("OK: 5 entries")
    assert "await" not in audit.stdout  # the server signed for entry 4 as it stopped


def test_serve_refuses_a_bad_checkpoint_interval(database_url: str, tmp_path: Path) -> None:
    env = {"TIZBEK_DATABASE_URL": database_url, "TIZBEK_CHECKPOINT_INTERVAL": "soon"}
    refused = run_tizbek("serve", "--port", "1", cwd=tmp_path, env=env)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "tizbek: cannot serve: TIZBEK_CHECKPOINT_INTERVAL must be a number of seconds from 0 "
        "to 86400, not 'soon'"
    ]
    refused = run_tizbek("serve", "--checkpoint-interval", "-1", cwd=tmp_path, env=env)
    assert refused.returncode == 2
    assert "--checkpoint-interval" in refused.stderr
