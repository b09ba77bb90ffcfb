"""POST /v1/events: new, resent, refused and malformed submissions."""

from __future__ import annotations

import json

from tests.api.conftest import L1, Api, register_lot

PROBLEM = "application/problem+json"


def test_a_new_submission_is_created_and_a_resend_returns_it(api: Api) -> None:
    submission = api.signed("almaty-collect", "lot.registered", **_fields(L1))
    first = api.client.post("/v1/events", json=submission)
    assert first.status_code == 201
    body = first.json()
    assert body["entry"]["event"] == submission["event"]
    assert body["seq"] == 11
    assert len(body["leaf_hash"]) == 64
    again = api.client.post("/v1/events", json=submission)
    assert (again.status_code, again.json()) == (200, body)


def _fields(lot: str) -> dict[str, object]:
    from ledger.demo import lot_fields

    return lot_fields(lot)


def test_a_rule_refusal_names_the_rule(api: Api) -> None:
    answer = api.post("steppe-haulage", "lot.registered", **_fields(L1))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["code"] == "role"
    assert "steppe-haulage does not have the collector role" in problem["detail"]
    assert set(problem) >= {"type", "title", "status", "detail", "code"}


def test_a_stale_after_is_a_conflict(api: Api) -> None:
    first = register_lot(api, L1).json()
    api.post("almaty-collect", "lot.lost", lot=L1, after=first["leaf_hash"], reason="x")
    stale = api.post("almaty-collect", "lot.lost", lot=L1, after=first["leaf_hash"], reason="y")
    assert stale.status_code == 409
    assert stale.json()["code"] == "reference"


def test_a_bad_signature_and_an_unknown_key(api: Api) -> None:
    submission = api.signed("almaty-collect", "lot.registered", **_fields(L1))
    submission["event"]["weight_g"] = 1
    answer = api.client.post("/v1/events", json=submission)
    assert (answer.status_code, answer.json()["code"]) == (422, "signature")


def test_malformed_bodies(api: Api) -> None:
    for body in (b"not json", b"[]", b'{"event": {}, "sig": "x"}', b'{"a": 1.5}'):
        answer = api.client.post(
            "/v1/events", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400, body
        assert answer.headers["content-type"] == PROBLEM
    duplicate = b'{"event": {}, "event": {}, "sig": "x"}'
    assert api.client.post("/v1/events", content=duplicate).status_code == 400


def test_a_body_over_64_kib_is_refused(api: Api) -> None:
    big = json.dumps({"event": {"padding": "x" * 70_000}, "sig": "x"})
    answer = api.client.post("/v1/events", content=big)
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
