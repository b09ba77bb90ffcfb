"""Fast routes answer exactly as the documented FastAPI routes behind them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Match

from api.app import create_app
from api.fastroutes import FastRoute, integer_query
from api.public import FAST_ROUTES, MAX_SEQ
from ledger.demo import lot_fields
from ledger.storage.create import create_log
from tests.api.conftest import L1, L2, ORIGIN, Api, register_lot

PROOF = integer_query({"seq": (0, MAX_SEQ), "size": (1, MAX_SEQ)})


def test_the_query_parser_takes_only_well_formed_integers_in_range() -> None:
    assert PROOF(b"seq=3&size=10") == {"seq": 3, "size": 10}
    assert PROOF(b"size=10&seq=0") == {"seq": 0, "size": 10}
    assert PROOF(b"seq=%d&size=%d" % (MAX_SEQ, MAX_SEQ)) == {"seq": MAX_SEQ, "size": MAX_SEQ}
    declined = [
        b"",
        b"seq=3",  # one missing
        b"seq=3&size=10&x=1",  # one more
        b"seq=3&seq=4&size=10",  # twice
        b"seq=-1&size=10",
        b"seq=+1&size=10",
        b"seq=1.0&size=10",
        b"seq=%31&size=10",  # percent-encoded
        b"seq=&size=10",
        b"seq&size=10",
        b"seq=3&size=0",  # below the bound
        b"seq=%d&size=10" % (MAX_SEQ + 1),  # above it
        b"seq=00000000000000001&size=10",  # longer than the largest value
        "seq=\u0663&size=10".encode(),  # an Arabic-Indic digit
    ]
    for query in declined:
        assert PROOF(query) is None, query


def _scope(method: str, path: str, query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query}


def test_a_fast_route_takes_its_method_and_path_only() -> None:
    inclusion = next(r for r in FAST_ROUTES if r.path == "/v1/proof/inclusion")
    assert inclusion.matches(_scope("GET", "/v1/proof/inclusion", b"seq=1&size=2"))[0] is Match.FULL
    for scope in (
        _scope("GET", "/v1/proof/inclusion", b"seq=x&size=2"),
        _scope("HEAD", "/v1/proof/inclusion", b"seq=1&size=2"),
        _scope("POST", "/v1/proof/inclusion", b"seq=1&size=2"),
        _scope("GET", "/v1/proof/inclusionx", b"seq=1&size=2"),
    ):
        assert inclusion.matches(scope)[0] is Match.NONE, scope


def _without_fast_routes(app: FastAPI) -> Iterator[None]:
    routes = list(app.router.routes)
    app.router.routes[:] = [r for r in routes if not isinstance(r, FastRoute)]
    try:
        yield
    finally:
        app.router.routes[:] = routes


@pytest.fixture
def requests(api: Api) -> list[str]:
    register_lot(api, L1)
    register_lot(api, L2)
    size = api.client.get("/v1/log").json()["size"]
    return [
        "/v1/checkpoint",
        "/v1/checkpoint?anything=1",
        f"/v1/proof/inclusion?seq=0&size={size}",
        f"/v1/proof/inclusion?seq={size - 1}&size={size}",
        "/v1/proof/inclusion?seq=0&size=1",
        f"/v1/proof/inclusion?seq={size}&size={size}",  # not in the tree: 404
        f"/v1/proof/inclusion?seq=0&size={size + 5}",  # larger than the log: 404
        f"/v1/proof/inclusion?seq={size}&size={size + 1}",  # its nodes exist, still 404
        "/v1/proof/inclusion?seq=-1&size=2",  # malformed: 400
        "/v1/proof/inclusion?seq=1",
        f"/v1/proof/consistency?first=1&second={size}",
        f"/v1/proof/consistency?first={size}&second={size}",
        f"/v1/proof/consistency?first={size}&second=2",  # first after second: 404
        "/v1/proof/consistency?first=0&second=2",  # out of range: 400
    ]


def test_fast_routes_answer_as_the_documented_routes(api: Api, requests: list[str]) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)
    fast = [api.client.get(url) for url in requests]
    for _ in _without_fast_routes(app):
        documented = [api.client.get(url) for url in requests]
    for url, one, other in zip(requests, fast, documented, strict=True):
        assert one.status_code == other.status_code, url
        assert one.headers["content-type"] == other.headers["content-type"], url
        assert one.content == other.content, url
    assert [r.status_code for r in fast][:5] == [200] * 5
    assert [r.status_code for r in fast][5:8] == [404] * 3


def test_submissions_by_either_route_are_answered_alike(api: Api) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)
    submission = api.signed("almaty-collect", "lot.registered", **lot_fields(L1))
    new = api.client.post("/v1/events", json=submission)
    assert new.status_code == 201
    for _ in _without_fast_routes(app):
        again = api.client.post("/v1/events", json=submission)
    assert again.status_code == 200
    assert again.content == new.content
    assert new.headers["content-type"] == "application/json"
    body = new.json()
    assert set(body) == {"seq", "leaf_hash", "entry"}
    assert body["entry"]["seq"] == body["seq"]


def test_the_rate_limit_holds_on_the_fast_routes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    create_log(
        url, keys=tmp_path / "keys", origin=ORIGIN, authority_id="kz-eco", authority_name="A"
    )
    app = create_app(url, tmp_path / "keys", rate_limit=1, rate_burst=2)
    with TestClient(app) as client:
        answers = [client.get("/v1/proof/inclusion?seq=0&size=1") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert int(answers[2].headers["retry-after"]) >= 1
