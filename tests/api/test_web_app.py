"""The web app's server side: sign-in and its cookie, same-origin posts, languages, pages by
role, the demo-only key binding; and the two registry reads it relies on, the key binding and
the recyclers licensed for given lots, which agree with what the rules accept."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.keys import SigningKey
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.tokens import create_token
from tests.api.conftest import (
    AUTHORITY,
    L1,
    L2,
    ORIGIN,
    Api,
    bearer,
    licensed_recycler,
    register_lot,
)

SAME = {"origin": "http://testserver"}


def _licence(api: Api, org: str, codes: list[str], *, days: int = 365) -> None:
    licensed_recycler(
        api,
        org,
        bin="210440009999" if org == "rec-a" else "210440009998",
        waste_codes=codes,
        categories=[5, 6],
        operations=["R4"],
        days=days,
    )


def test_recyclers_offered_are_those_the_rules_accept(api: Api, tokens: dict[str, str]) -> None:
    _licence(api, "rec-a", ["20 01 35*", "20 01 36"])
    _licence(api, "rec-b", ["16 02 14"])
    assert register_lot(api, L1).status_code == 201
    assert (
        register_lot(api, L2, waste_code="16 02 14", hazardous=False, hp_codes=[]).status_code
        == 201
    )
    who = bearer(tokens["collector"])
    assert [r["org"] for r in api.client.get(f"/v1/recyclers?lot={L1}", headers=who).json()] == [
        "rec-a"
    ]
    assert [r["org"] for r in api.client.get(f"/v1/recyclers?lot={L2}", headers=who).json()] == [
        "rec-b"
    ]
    both = api.client.get(f"/v1/recyclers?lot={L1}&lot={L2}", headers=who).json()
    assert both == []
    everyone = api.client.get("/v1/recyclers", headers=who).json()
    assert [(r["org"], r["licences"]) for r in everyone] == [
        ("rec-a", ["LIC-rec-a"]),
        ("rec-b", ["LIC-rec-b"]),
    ]
    assert (
        api.client.get(f"/v1/recyclers?lot={L1}", headers=bearer(tokens["other"])).status_code
        == 404
    )
    assert api.client.get(f"/v1/recyclers?lot={L1}").status_code == 401
    # What was offered is accepted; what was not is refused by the licence rule.
    head = api.client.get(f"/v1/lots/{L1}", headers=who).json()["head_seq"]
    after = api.client.get(f"/v1/entries/{head}", headers=who).json()["leaf_hash"]
    lots = [{"lot": L1, "after": after, "weight_g": 182_500}]
    refused = api.post(
        "almaty-collect", "transfer.dispatched", transfer="T-B", lots=lots, to="rec-b"
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "licence")
    accepted = api.post(
        "almaty-collect", "transfer.dispatched", transfer="T-A", lots=lots, to="rec-a"
    )
    assert accepted.status_code == 201, accepted.text


def test_a_key_binding_is_public(api: Api) -> None:
    key = api.keys["almaty-collect"]
    found = api.client.get(f"/v1/keys/{key.key_id}")
    assert found.status_code == 200
    assert found.json()["org"] == "almaty-collect"
    assert found.json()["public_key"] == key.public.base64
    assert found.json()["revoked_seq"] is None
    missing = api.client.get(f"/v1/keys/{SigningKey.generate().key_id}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert api.client.get("/v1/keys/NOT-HEX").status_code == 400


def test_a_photo_enters_the_log_only_as_its_hash(api: Api, tokens: dict[str, str]) -> None:
    digest = hashlib.sha256(b"photo").hexdigest()
    bad = register_lot(api, L1, photo_sha256="a photo")
    assert (bad.status_code, bad.json()["code"]) == (422, "format")
    assert register_lot(api, L1, photo_sha256=digest).status_code == 201
    doc = api.client.get(f"/v1/lots/{L1}", headers=bearer(tokens["collector"])).json()
    assert doc["photo_sha256"] == digest


def test_sign_in_keeps_the_token_in_a_strict_http_only_cookie(
    api: Api, tokens: dict[str, str]
) -> None:
    client = api.client
    assert client.get("/", follow_redirects=False).headers["location"] == "/app/"
    away = client.get("/app/collector/", follow_redirects=False)
    assert (away.status_code, away.headers["location"]) == (303, "/app/signin?next=/app/collector/")
    wrong = client.post("/app/signin", data={"token": "tzb_nothing"}, headers=SAME)
    assert wrong.status_code == 401
    assert "unknown or revoked" in wrong.text
    signed = client.post(
        "/app/signin",
        data={"token": tokens["collector"], "next": "/app/collector/"},
        headers=SAME,
        follow_redirects=False,
    )
    assert (signed.status_code, signed.headers["location"]) == (303, "/app/collector/")
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    page = client.get("/app/collector/")
    assert page.status_code == 200
    assert 'data-actor="almaty-collect"' in page.text
    assert client.post("/app/signout", headers=SAME, follow_redirects=False).status_code == 303
    assert client.get("/app/", follow_redirects=False).status_code == 303


def test_form_posts_come_only_from_the_app(api: Api, tokens: dict[str, str]) -> None:
    for headers in ({"origin": "https://elsewhere.example"}, {"sec-fetch-site": "cross-site"}, {}):
        refused = api.client.post(
            "/app/signin", data={"token": tokens["collector"]}, headers=headers
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "cross_origin"), headers
    assert "set-cookie" not in refused.headers


def test_next_never_leaves_the_app(api: Api, tokens: dict[str, str]) -> None:
    for target in ("https://elsewhere.example/", "//elsewhere.example/app/", "/v1/lots"):
        signed = api.client.post(
            "/app/signin",
            data={"token": tokens["collector"], "next": target},
            headers=SAME,
            follow_redirects=False,
        )
        assert signed.headers["location"] == "/app/"
    switched = api.client.get(
        "/app/lang/kk?next=https://elsewhere.example/", follow_redirects=False
    )
    assert switched.headers["location"] == "/app/"


def test_pages_follow_the_chosen_or_the_browser_s_language(api: Api) -> None:
    client = api.client
    assert '<html lang="kk">' in client.get("/app/signin?lang=kk").text
    assert '<html lang="ru">' in client.get("/app/signin", headers={"accept-language": "ru"}).text
    assert "Войти" in client.get("/app/signin", headers={"accept-language": "ru-RU,en;q=0.5"}).text
    client.get("/app/lang/kk", follow_redirects=False)
    assert '<html lang="kk">' in client.get("/app/signin", headers={"accept-language": "ru"}).text


def test_a_page_is_for_its_role(api: Api) -> None:
    token = create_token(make_engine(api.url), org="steppe-haulage", role="member", label="x")[1]
    api.client.post("/app/signin", data={"token": token}, headers=SAME)
    assert api.client.get("/app/").status_code == 200
    assert api.client.get("/app/collector/").status_code == 403


def test_the_demo_binding_is_refused_outside_a_demo(api: Api, tokens: dict[str, str]) -> None:
    api.client.post("/app/signin", data={"token": tokens["collector"]}, headers=SAME)
    key = SigningKey.generate()
    answer = api.client.post(
        "/app/key/demo-bind", json={"public_key": key.public.base64}, headers=SAME
    )
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert "Bind this key (demo)" not in api.client.get("/app/key").text


@pytest.fixture
def demo_client(tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    """An app in demo mode over a fresh log with one collector: client, collector token, and
    the authority's inspector token."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    keys = tmp_path / "keys"
    create_log(url, keys=keys, origin=ORIGIN, authority_id=AUTHORITY, authority_name="Ministry")
    with TestClient(create_app(url, keys, demo=True)) as client:
        world = Api(client, {AUTHORITY: SigningKey.load(keys / "authority.key")}, url)
        world.post(
            AUTHORITY,
            "org.registered",
            org="almaty-collect",
            name="Almaty Collect LLP",
            bin="210440000001",
            roles=["collector"],
            country="KZ",
            region="Almaty",
        )
        engine = make_engine(url)
        member = create_token(engine, org="almaty-collect", role="member", label="demo")[1]
        authority = create_token(engine, org=AUTHORITY, role="inspector", label="demo")[1]
        engine.dispose()
        yield client, member, authority


def test_the_demo_binds_a_browser_s_key_for_the_signed_in_org(
    demo_client: tuple[TestClient, str, str],
) -> None:
    client, member, authority = demo_client
    key = SigningKey.generate()
    body = {"public_key": key.public.base64, "label": "phone"}
    unsigned = client.post("/app/key/demo-bind", json=body, headers=SAME, follow_redirects=False)
    assert unsigned.status_code == 303
    client.post("/app/signin", data={"token": member}, headers=SAME)
    assert "Bind this key (demo)" in client.get("/app/key").text
    elsewhere = client.post(
        "/app/key/demo-bind", json=body, headers={"origin": "https://x.example"}
    )
    assert elsewhere.status_code == 403
    bound = client.post("/app/key/demo-bind", json=body, headers=SAME)
    assert bound.status_code == 200, bound.text
    assert bound.json()["org"] == "almaty-collect"
    assert client.get(f"/v1/keys/{key.key_id}").json()["org"] == "almaty-collect"
    again = client.post("/app/key/demo-bind", json=body, headers=SAME)
    assert again.json()["seq"] == bound.json()["seq"]
    client.post("/app/signin", data={"token": authority}, headers=SAME)
    other = SigningKey.generate()
    refused = client.post(
        "/app/key/demo-bind", json={"public_key": other.public.base64}, headers=SAME
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "authority_keys")
