"""The transporter's and the recycler's pages on the server: each is for its role, offers a
transfer only to whom it waits for, renders the heads the next event must name, finds a lot's
transfer from its label, orders discrepancies by deadline, offers only licensed operations, and
hands the certificate only to the recycler that treated the lot."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from ledger.keys import SigningKey
from ledger.storage.engine import make_engine
from ledger.storage.tokens import create_token
from tests.api.conftest import AUTHORITY, L1, L2, L3, Api, licensed_recycler, register_lot

SAME = {"origin": "http://testserver"}


def _recycler(api: Api, org: str, n: int) -> None:
    licensed_recycler(
        api,
        org,
        bin=f"21044000990{n}",
        waste_codes=["20 01 35*"],
        categories=[6],
        operations=["D10", "R12", "R4"],
    )
    key = SigningKey.generate()
    bound = api.post(
        AUTHORITY,
        "key.bound",
        org=org,
        public_key=key.public.base64,
        key_id=key.key_id,
        label="pc",
    )
    assert bound.status_code == 201
    api.keys[org] = key


def _sign_in(api: Api, org: str) -> None:
    token = create_token(make_engine(api.url), org=org, role="member", label="x")[1]
    assert api.client.post("/app/signin", data={"token": token}, headers=SAME).status_code == 200


def _posted(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def on_the_way(api: Api) -> dict[str, str]:
    """Two lots dispatched to rec-a by way of steppe-haulage; the leaf hashes of the events."""
    _recycler(api, "rec-a", 1)
    _recycler(api, "rec-b", 2)
    heads = {lot: _posted(register_lot(api, lot))["leaf_hash"] for lot in (L1, L2)}
    dispatched = _posted(
        api.post(
            "almaty-collect",
            "transfer.dispatched",
            transfer="TR-1",
            lots=[{"lot": lot, "after": h, "weight_g": 182_500} for lot, h in heads.items()],
            to="rec-a",
            transporter="steppe-haulage",
        )
    )
    return {"dispatched": dispatched["leaf_hash"]}


def _attr(html: str, element_id: str, name: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*\b{name}="([^"]*)"', html)
    assert found is not None, f"no {name} on #{element_id}"
    return found.group(1)


def test_pages_are_for_their_role(api: Api) -> None:
    _sign_in(api, "almaty-collect")
    for path in ("/app/transporter/", "/app/transporter/take", "/app/recycler/"):
        assert api.client.get(path).status_code == 403, path
    assert api.client.get("/app/recycler/certificate/X.pdf").status_code == 403


def test_the_transporter_takes_over_what_waits_for_it(api: Api, on_the_way: dict[str, str]) -> None:
    _sign_in(api, "steppe-haulage")
    listed = api.client.get("/app/transporter/take").text
    assert 'data-transfer="TR-1"' in listed
    for query in (f"lot={L2}", f"lot={L2.lower()}", "transfer=TR-1"):
        page = api.client.get(f"/app/transporter/take?{query}").text
        assert _attr(page, "take-form", "data-transfer") == "TR-1"
        assert _attr(page, "take-form", "data-after") == on_the_way["dispatched"]
        assert f'<tr data-lot="{L1}">' in page
        assert f'<tr data-lot="{L2}">' in page
    assert 'id="find-problem"' in api.client.get(f"/app/transporter/take?lot={L3}").text
    assert "take-form" not in api.client.get("/app/transporter/take?transfer=TR-2").text
    assert 'id="carried"' not in api.client.get("/app/transporter/").text

    taken = _posted(
        api.post(
            "steppe-haulage", "transfer.taken_over", transfer="TR-1", after=on_the_way["dispatched"]
        )
    )
    assert taken["seq"] > 0
    vehicle = api.client.get("/app/transporter/").text
    assert f'<li data-lot="{L1}">' in vehicle
    assert f'<li data-lot="{L2}">' in vehicle
    assert 'data-to="rec-a">rec-a JSC<' in vehicle
    # Taken over: it no longer waits for this transporter.
    assert 'data-transfer="TR-1"' not in api.client.get("/app/transporter/take").text


def test_the_recycler_receives_only_after_the_take_over(
    api: Api, on_the_way: dict[str, str]
) -> None:
    _sign_in(api, "rec-a")
    assert 'data-transfer="TR-1"' in api.client.get("/app/recycler/").text
    found = api.client.get(f"/app/recycler/?lot={L1}", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (
        303,
        "/app/recycler/receive?transfer=TR-1",
    )
    assert "receive-form" not in api.client.get("/app/recycler/receive?transfer=TR-1").text
    taken = _posted(
        api.post(
            "steppe-haulage", "transfer.taken_over", transfer="TR-1", after=on_the_way["dispatched"]
        )
    )
    page = api.client.get("/app/recycler/receive?transfer=TR-1").text
    assert _attr(page, "receive-form", "data-after") == taken["leaf_hash"]
    assert _attr(page, "receive-form", "data-percent") == "10"
    for lot in (L1, L2):
        row = re.search(rf'data-receipt-lot="{lot}" data-after="(\w+)" data-declared="(\d+)"', page)
        assert row is not None
        assert row.groups() == (on_the_way["dispatched"], "182500")
    # Another recycler sees no such transfer.
    _sign_in(api, "rec-b")
    assert api.client.get("/app/recycler/receive?transfer=TR-1").status_code == 404
    assert 'id="find-problem"' in api.client.get(f"/app/recycler/?lot={L1}").text


def test_discrepancies_treatment_and_the_certificate(api: Api, on_the_way: dict[str, str]) -> None:
    taken = _posted(
        api.post(
            "steppe-haulage", "transfer.taken_over", transfer="TR-1", after=on_the_way["dispatched"]
        )
    )
    received = _posted(
        api.post(
            "rec-a",
            "transfer.received",
            transfer="TR-1",
            after=taken["leaf_hash"],
            lots=[
                {
                    "lot": L1,
                    "after": on_the_way["dispatched"],
                    "weight_g": 150_000,
                    "outcome": "accepted",
                },
                {
                    "lot": L2,
                    "after": on_the_way["dispatched"],
                    "weight_g": 182_000,
                    "outcome": "partially_refused",
                    "refused_weight_g": 2_000,
                    "return_lot": "RET-1",
                    "reason": "a wet box",
                },
            ],
        )
    )
    _sign_in(api, "rec-a")
    listed = api.client.get("/app/recycler/discrepancies").text
    deadline = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=15)).isoformat()
    assert re.findall(
        r'<li data-lot="(\w+)" data-status="(\w+)" data-deadline="([\d-]+)"', listed
    ) == [(L1, "open", deadline)]
    assert "(-17.8\u00a0%)" in listed
    assert "15 days left" in listed

    found = api.client.get(f"/app/recycler/?lot={L1}", follow_redirects=False)
    assert found.headers["location"] == f"/app/recycler/process?lot={L1}"
    treat = api.client.get(f"/app/recycler/process?lot={L1}").text
    assert re.findall(r'<option value="([RD]\d+)">', treat) == ["R4", "R12", "D10"]
    assert _attr(treat, "process-form", "data-after") == received["leaf_hash"]
    assert _attr(treat, "process-form", "data-input") == "150000"
    assert api.client.get(f"/app/recycler/process?lot={L3}").status_code == 404

    not_yet = api.client.get(f"/app/recycler/certificate/{L1}.pdf")
    assert (not_yet.status_code, not_yet.json()["code"]) == (404, "not_found")
    _posted(
        api.post(
            "rec-a",
            "lot.processed",
            lot=L1,
            after=received["leaf_hash"],
            operation="R4",
            outputs=[{"material": "copper", "waste_code": "19 12 03", "weight_g": 140_000}],
        )
    )
    pdf = api.client.get(f"/app/recycler/certificate/{L1}.pdf?lang=kk")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="tizbek-certificate-{L1}.pdf"' in pdf.headers["content-disposition"]
    lots = api.client.get("/app/recycler/lots").text
    assert f'href="/app/recycler/certificate/{L1}.pdf" download' in lots
    assert f'<li data-lot="{L2}">' in lots  # held, waiting for treatment

    _sign_in(api, "rec-b")
    assert api.client.get(f"/app/recycler/certificate/{L1}.pdf").status_code == 404
