"""CSV and JSON Lines exports of lots and transfers, limited to what a reader may see."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from api import exports
from ledger.demo import lot_fields
from tests.api.conftest import L1, L2, L3, Api, bearer, register_lot
from tests.storage.logs import label


def test_lots_as_csv_and_json_lines(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    register_lot(api, L2, category=5)
    answer = api.client.get("/v1/export/lots", headers=bearer(tokens["inspector"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="lots.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["lot"] for r in rows] == sorted([L1, L2])
    assert {r["lot"]: r["category"] for r in rows} == {L1: "6", L2: "5"}
    assert rows[0]["weight_g"] == "182500"
    lines = api.client.get(
        "/v1/export/lots",
        params={"format": "jsonl", "category": 5},
        headers=bearer(tokens["inspector"]),
    ).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [L2]
    today = dt.datetime.now(dt.UTC).date()
    for day, expected in ((today, [L1, L2]), (today + dt.timedelta(days=1), [])):
        dated = api.client.get(
            "/v1/export/lots",
            params={"format": "jsonl", "registered_from": day.isoformat()},
            headers=bearer(tokens["inspector"]),
        ).text.splitlines()
        assert sorted(json.loads(line)["id"] for line in dated) == sorted(expected)


def test_members_export_only_their_lots(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    other = label("other-collect", 1)
    assert api.post("other-collect", "lot.registered", **lot_fields(other)).status_code == 201
    mine = api.client.get("/v1/export/lots", headers=bearer(tokens["collector"])).text
    assert L1 in mine
    assert other not in mine
    assert api.client.get("/v1/export/lots").status_code == 401
    assert (
        api.client.get(
            "/v1/export/lots", params={"format": "xml"}, headers=bearer(tokens["collector"])
        ).status_code
        == 400
    )


def test_an_export_pages_through_every_row(
    api: Api, tokens: dict[str, str], monkeypatch: object
) -> None:

    patch = pytest.MonkeyPatch()
    patch.setattr(exports, "PAGE", 2)
    try:
        for lot in (L1, L2, L3):
            register_lot(api, lot)
        rows = list(
            csv.DictReader(
                io.StringIO(
                    api.client.get("/v1/export/lots", headers=bearer(tokens["inspector"])).text
                )
            )
        )
        assert [r["lot"] for r in rows] == sorted([L1, L2, L3])
    finally:
        patch.undo()


def test_transfers_export(api: Api, tokens: dict[str, str]) -> None:
    lot = register_lot(api, L1).json()
    sent = api.post(
        "almaty-collect",
        "transfer.dispatched",
        transfer="TR-1",
        lots=[{"lot": L1, "after": lot["leaf_hash"], "weight_g": 182_500}],
        to="other-collect",
    )
    assert sent.status_code == 201, sent.text
    rows = list(
        csv.DictReader(
            io.StringIO(
                api.client.get("/v1/export/transfers", headers=bearer(tokens["other"])).text
            )
        )
    )
    assert [(r["transfer"], r["sender"], r["to"], r["lots"], r["declared_g"]) for r in rows] == [
        ("TR-1", "almaty-collect", "other-collect", L1, "182500")
    ]
