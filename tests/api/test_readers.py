"""Token holders: what an inspector, a party and a stranger may read, and the lot bundle."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from ledger.bundle import verify_bundle
from tests.api.conftest import L1, Api, register_lot
from tests.tizbek_cli import run_tizbek


def _get(api: Api, path: str, token: str | None = None, **params: Any) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    response: httpx.Response = api.client.get(path, headers=headers, params=params)
    return response


def test_who_sees_a_lot(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    assert _get(api, f"/v1/lots/{L1}", tokens["collector"]).json()["holder"] == "almaty-collect"
    assert _get(api, f"/v1/lots/{L1}", tokens["inspector"]).status_code == 200
    other = _get(api, f"/v1/lots/{L1}", tokens["other"])
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    nobody = _get(api, f"/v1/lots/{L1}")
    assert (nobody.status_code, nobody.json()["code"]) == (401, "token_required")
    dead = _get(api, f"/v1/lots/{L1}", tokens["revoked"])
    assert (dead.status_code, dead.json()["code"]) == (401, "invalid_token")
    forged = _get(api, f"/v1/lots/{L1}", "tzb_forged")
    assert forged.status_code == 401
    assert _get(api, "/v1/lots", tokens["other"]).json() == []
    assert [lot["id"] for lot in _get(api, "/v1/lots", tokens["collector"]).json()] == [L1]
    assert _get(api, "/v1/lots", tokens["inspector"], state="held").json()[0]["id"] == L1


def test_entries_are_for_inspectors(api: Api, tokens: dict[str, str]) -> None:
    lot = register_lot(api, L1).json()
    listing = _get(api, "/v1/entries", tokens["inspector"], start=0, limit=3).json()
    assert [e["seq"] for e in listing] == [0, 1, 2]
    stream = _get(api, "/v1/entries", tokens["inspector"], format="jsonl")
    assert stream.headers["content-type"].startswith("application/jsonl")
    assert len(stream.text.splitlines()) == lot["seq"] + 1
    refused = _get(api, "/v1/entries", tokens["collector"])
    assert (refused.status_code, refused.json()["code"]) == (403, "inspectors_only")
    mine = _get(api, f"/v1/entries/{lot['seq']}", tokens["collector"])
    assert mine.json()["leaf_hash"] == lot["leaf_hash"]
    assert _get(api, f"/v1/entries/{lot['seq']}", tokens["other"]).status_code == 404


def test_the_lot_bundle_verifies_offline(api: Api, tokens: dict[str, str], tmp_path: Path) -> None:
    first = register_lot(api, L1).json()
    api.post("almaty-collect", "lot.lost", lot=L1, after=first["leaf_hash"], reason="stolen")
    bundle = _get(api, f"/v1/lots/{L1}/bundle", tokens["collector"]).json()
    report = verify_bundle(bundle)
    assert report.kind == "entries"
    path = tmp_path / "l1.json"
    path.write_text(json.dumps(bundle))
    assert run_tizbek("verify", str(path), cwd=tmp_path).returncode == 0
    assert _get(api, f"/v1/lots/{L1}/bundle", tokens["other"]).status_code == 404


def test_registry_and_discrepancies(api: Api, tokens: dict[str, str]) -> None:
    orgs = _get(api, "/v1/organisations", tokens["other"]).json()
    assert {o["id"] for o in orgs} >= {"almaty-collect", "eco-inspect"}
    assert _get(api, "/v1/licences", tokens["other"]).json() == []
    assert _get(api, "/v1/discrepancies", tokens["inspector"]).json() == []
    assert _get(api, "/v1/transfers", tokens["inspector"]).json() == []
    assert _get(api, "/v1/transfers/T9", tokens["inspector"]).status_code == 404


def test_tokens_from_the_command_line(api: Api, tmp_path: Path) -> None:
    env = {"TIZBEK_DATABASE_URL": api.url}
    made = run_tizbek(
        "token", "create", "--org", "almaty-collect", "--label", "tablet", cwd=tmp_path, env=env
    )
    assert made.returncode == 0, made.stderr
    ident = made.stdout.split()[2]
    token = made.stdout.splitlines()[-1]
    assert _get(api, "/v1/lots", token).status_code == 200
    assert run_tizbek("token", "revoke", ident, cwd=tmp_path, env=env).returncode == 0
    assert _get(api, "/v1/lots", token).status_code == 401
    again = run_tizbek("token", "revoke", ident, cwd=tmp_path, env=env)
    assert again.returncode == 2
    bad = run_tizbek(
        "token",
        "create",
        "--org",
        "almaty-collect",
        "--role",
        "inspector",
        "--label",
        "x",
        cwd=tmp_path,
        env=env,
    )
    assert bad.returncode == 2
    assert "does not have the inspector role" in bad.stderr


def test_lots_filtered_by_registration_day(api: Api, tokens: dict[str, str]) -> None:
    lot = register_lot(api, L1).json()
    day = lot["entry"]["logged_at"][:10]
    before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    after = (date.fromisoformat(day) + timedelta(days=1)).isoformat()

    def ids(**params: str) -> list[str]:
        return [x["id"] for x in _get(api, "/v1/lots", tokens["inspector"], **params).json()]

    assert ids(registered_from=day, registered_to=day) == [L1]
    assert ids(registered_from=before) == [L1]
    assert ids(registered_to=before) == []
    assert ids(registered_from=after) == []
    assert _get(api, "/v1/lots", tokens["inspector"], registered_from="soon").status_code == 400
