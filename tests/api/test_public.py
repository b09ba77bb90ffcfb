"""Public endpoints: the log, checkpoints and proofs, checked like a verifier would."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.checkpoint import verify_checkpoint
from ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.note import VerifierKey
from tests.api.conftest import L1, ORIGIN, Api, register_lot


def test_log_checkpoint_and_proofs_verify(api: Api) -> None:
    lot = register_lot(api, L1).json()
    info = api.client.get("/v1/log").json()
    assert (info["origin"], info["size"], info["authority"]) == (ORIGIN, 12, "kz-eco")
    note = api.client.get("/v1/checkpoint")
    assert note.headers["content-type"] == "text/plain; charset=utf-8"
    checkpoint = verify_checkpoint(note.text, VerifierKey.parse(info["verifier_key"]))
    assert checkpoint.size == 12
    proof = api.client.get("/v1/proof/inclusion", params={"seq": lot["seq"], "size": 12}).json()
    entry_bytes = _canonical(lot["entry"])
    assert leaf_hash(entry_bytes).hex() == lot["leaf_hash"]
    verify_inclusion(
        index=lot["seq"],
        size=12,
        leaf=bytes.fromhex(lot["leaf_hash"]),
        proof=[bytes.fromhex(h) for h in proof["hashes"]],
        root=checkpoint.root,
    )
    history = api.client.get("/v1/checkpoints").json()
    old = verify_checkpoint(history[1]["note"], VerifierKey.parse(info["verifier_key"]))
    consistency = api.client.get(
        "/v1/proof/consistency", params={"first": old.size, "second": 12}
    ).json()
    verify_consistency(
        old_size=old.size,
        size=12,
        old_root=old.root,
        root=checkpoint.root,
        proof=[bytes.fromhex(h) for h in consistency["hashes"]],
    )


def _canonical(entry: dict[str, object]) -> bytes:
    from ledger.canonical import canonical_bytes

    return canonical_bytes(entry)


def test_bad_proof_requests_are_problems(api: Api) -> None:
    for missing in ({"seq": 9, "size": 5}, {"seq": 0, "size": 99}):
        answer = api.client.get("/v1/proof/inclusion", params=missing)
        assert (answer.status_code, answer.json()["code"]) == (404, "no_such_proof"), missing
    malformed: list[dict[str, object]] = [{"seq": -1, "size": 2}, {"seq": "x", "size": 2}, {}]
    for params in malformed:
        answer = api.client.get("/v1/proof/inclusion", params=params)
        assert answer.status_code == 400, params
        assert answer.headers["content-type"] == "application/problem+json"
    answer = api.client.get("/v1/proof/consistency", params={"first": 5, "second": 2})
    assert answer.status_code == 404


def test_unknown_paths_and_methods_are_problems(api: Api) -> None:
    missing = api.client.get("/v1/nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = api.client.delete("/v1/log")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


def test_a_client_past_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from ledger.storage.create import create_log

    url = f"sqlite:///{tmp_path / 'rate.db'}"
    create_log(
        url, keys=tmp_path / "k", origin="r.tizbek.kz/log", authority_id="a", authority_name="A"
    )
    with TestClient(create_app(url, tmp_path / "k", rate_limit=1, rate_burst=3)) as client:
        codes = [client.get("/v1/log").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/v1/log")
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1


def test_a_dropped_database_connection_is_a_503_once(api: Api) -> None:
    if not api.url.startswith("postgresql"):
        pytest.skip("PostgreSQL connections")
    size = api.client.get("/v1/log").json()["size"]
    assert api.client.get(f"/v1/proof/inclusion?seq=0&size={size}").status_code == 200
    # A proof whose nodes the server has not read yet (those it has come from memory).
    proof = f"/v1/proof/inclusion?seq={size - 1}&size={size}"
    # The server drops every connection of this database (a restart, a failover).
    name = make_url(api.url).database
    admin = create_engine(api.url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    admin.dispose()
    lost = api.client.get(proof)
    assert (lost.status_code, lost.json()["code"]) == (503, "storage")
    assert lost.headers["retry-after"] == "1"
    assert api.client.get(proof).status_code == 200
