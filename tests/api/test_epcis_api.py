"""EPCIS 2.0 documents over the API validate against GS1's schema and trace back to the log."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft7Validator

from tests.api.conftest import L1, Api, bearer, register_lot

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "vectors" / "epcis" / "EPCIS-JSON-Schema.json").read_text()
)
VALIDATOR = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


def test_a_lots_history_as_epcis(api: Api, tokens: dict[str, str]) -> None:
    lot = register_lot(api, L1).json()
    answer = api.client.get(f"/v1/lots/{L1}/epcis", headers=bearer(tokens["collector"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ld+json"
    document = answer.json()
    assert not list(VALIDATOR.iter_errors(document))
    (event,) = document["epcisBody"]["eventList"]
    assert event["tizbek:leafHash"] == lot["leaf_hash"]
    assert event["tizbek:seq"] == lot["seq"]
    assert (
        api.client.get(f"/v1/lots/{L1}/epcis", headers=bearer(tokens["other"])).status_code == 404
    )
    assert api.client.get(f"/v1/lots/{L1}/epcis").status_code == 401


def test_a_period_as_epcis(api: Api, tokens: dict[str, str]) -> None:
    lot = register_lot(api, L1).json()
    day = lot["entry"]["logged_at"][:10]
    inspector = bearer(tokens["inspector"])
    answer = api.client.get("/v1/export/epcis", params={"from": day, "to": day}, headers=inspector)
    assert answer.status_code == 200
    document = answer.json()
    assert not list(VALIDATOR.iter_errors(document))
    assert [e["tizbek:seq"] for e in document["epcisBody"]["eventList"]] == [lot["seq"]]
    before = api.client.get(
        "/v1/export/epcis", params={"from": "2020-01-01", "to": "2020-01-02"}, headers=inspector
    ).json()
    assert before["epcisBody"]["eventList"] == []
    last_day = api.client.get(
        "/v1/export/epcis", params={"from": "9999-12-31", "to": "9999-12-31"}, headers=inspector
    )
    assert last_day.json()["epcisBody"]["eventList"] == []
    backwards = api.client.get(
        "/v1/export/epcis", params={"from": day, "to": "2020-01-01"}, headers=inspector
    )
    assert backwards.json()["epcisBody"]["eventList"] == []
    members = api.client.get(
        "/v1/export/epcis", params={"from": day, "to": day}, headers=bearer(tokens["collector"])
    )
    assert members.status_code == 403
