"""The Basel movement-document sheet of a transfer from Kazakhstan to a recycler abroad."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.interop.basel import NotTransboundary, basel_code, movement_sheet
from ledger.keys import SigningKey
from ledger.storage.reader import LogReader
from ledger.storage.sqllog import SqlLog
from tests.storage.logs import bound
from tests.storage.test_findings import Story
from tests.tizbek_cli import demo_token, run_tizbek


def test_a_transfer_to_kyrgyzstan(log: tuple[SqlLog, SigningKey]) -> None:
    story = Story(*log)
    story.act(
        "kz-auth",
        "org.registered",
        org="bishkek-rec",
        name="Bishkek Recycling LLC",
        bin="000000000042",
        roles=["recycler"],
        country="KG",
        region="Chuy Region",
    )
    story.keys["bishkek-rec"] = SigningKey.generate()
    story.sql.append(bound(story.keys["kz-auth"], story.keys["bishkek-rec"], "bishkek-rec"))
    story.act(
        "kz-auth",
        "license.granted",
        org="bishkek-rec",
        license="KG-77",
        valid_from="2020-01-01",
        valid_to="2099-12-31",
        waste_codes=["20 01 35*"],
        categories=[6],
        operations=["R4"],
    )
    lot = story.register(1)
    sent = story.dispatch("T-KG", lot, to="bishkek-rec", vehicle="01 KG 777 ABC")
    got = story.carry_and_receive("T-KG", lot, 99_000, to="bishkek-rec")
    reader = LogReader(story.sql.engine)
    transfer = reader.doc("transfer", "T-KG")
    assert transfer is not None
    sheet = movement_sheet(transfer, reader.doc)
    assert (sheet["exporter"]["country"], sheet["importer"]["country"]) == ("KZ", "KG")
    assert sheet["importer"]["licences"] == ["KG-77"]
    assert [g["id"] for g in sheet["generators"]] == ["col"]
    assert [c["id"] for c in sheet["carriers"]] == ["car"]
    assert sheet["carriers"][0]["taken_over_seq"] is not None
    assert sheet["waste"]["basel_codes"] == ["A1181"]
    assert (sheet["waste"]["total_declared_g"], sheet["waste"]["total_received_g"]) == (
        100_000,
        99_000,
    )
    assert (sheet["movement"]["dispatched_seq"], sheet["movement"]["received_seq"]) == (sent, got)
    assert sheet["movement"]["vehicle"] == "01 KG 777 ABC"
    assert sent in sheet["entries"]
    assert got in sheet["entries"]
    assert sheet["movement"]["notification"] is None  # the exporter fills it in

    story.dispatch("T-home", story.register(2))
    home = reader.doc("transfer", "T-home")
    assert home is not None
    with pytest.raises(NotTransboundary, match="stays in KZ"):
        movement_sheet(home, reader.doc)


def test_basel_codes() -> None:
    assert (basel_code("20 01 35*"), basel_code("20 01 36")) == ("A1181", "Y49")


def test_the_demo_transfer_needs_no_movement_document(tmp_path: Path) -> None:
    made = run_tizbek("demo", "--no-serve", "--dir", "d", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    headers = {"authorization": f"Bearer {demo_token(made.stdout)}"}
    app = create_app(f"sqlite:///{tmp_path / 'd' / 'demo.db'}", tmp_path / "d" / "keys")
    with TestClient(app) as client:
        domestic = client.get("/v1/transfers/TR-DEMO-1/basel", headers=headers)
        assert (domestic.status_code, domestic.json()["code"]) == (409, "not_transboundary")
        assert client.get("/v1/transfers/nope/basel", headers=headers).status_code == 404
        assert client.get("/v1/transfers/TR-DEMO-1/basel").status_code == 401
