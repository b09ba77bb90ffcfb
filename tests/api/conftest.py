"""An API over a fresh log, and the demo's organisations registered in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.demo import lot_fields
from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.tokens import create_token, revoke_token
from tests.storage.logs import block_of, label

ORIGIN = "api.tizbek.kz/log"
AUTHORITY = "kz-eco"
#: The first labels issued to the collector.
L1, L2, L3 = (label("almaty-collect", n) for n in (1, 2, 3))


@dataclass
class Api:
    """A client of the API and the keys of the organisations it signs for."""

    client: TestClient
    keys: dict[str, SigningKey]
    url: str

    def signed(self, actor: str, etype: str, **fields: Any) -> dict[str, Any]:
        """A submission as JSON, signed by ``actor``."""
        key = self.keys[actor]
        event = make_event(etype, log=ORIGIN, actor=actor, key=key, **fields)
        return sign_event(key, event).to_json()

    def post(self, actor: str, etype: str, **fields: Any) -> Any:
        """Sign and submit; return the response."""
        return self.client.post("/v1/events", json=self.signed(actor, etype, **fields))


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    keys = tmp_path / "keys"
    create_log(
        database_url,
        keys=keys,
        origin=ORIGIN,
        authority_id=AUTHORITY,
        authority_name="Ministry of Ecology",
    )
    with TestClient(create_app(database_url, keys)) as client:
        world = Api(client, {AUTHORITY: SigningKey.load(keys / "authority.key")}, database_url)
        orgs = [
            ("almaty-collect", "collector"),
            ("steppe-haulage", "transporter"),
            ("other-collect", "collector"),
            ("eco-inspect", "inspector"),
        ]
        for n, (org, role) in enumerate(orgs):
            assert (
                world.post(
                    AUTHORITY,
                    "org.registered",
                    org=org,
                    name=f"{org} LLP",
                    bin=f"{210440000000 + n:012d}",
                    roles=[role],
                    country="KZ",
                    region="Almaty",
                ).status_code
                == 201
            )
            key = SigningKey.generate()
            assert (
                world.post(
                    AUTHORITY,
                    "key.bound",
                    org=org,
                    public_key=key.public.base64,
                    key_id=key.key_id,
                    label="phone",
                ).status_code
                == 201
            )
            world.keys[org] = key
            if role == "collector":
                assert (
                    world.post(
                        AUTHORITY, "labels.issued", org=org, block=block_of(org), count=1_000
                    ).status_code
                    == 201
                )
        yield world


def licensed_recycler(
    api: Api,
    org: str,
    *,
    bin: str,
    waste_codes: list[str],
    categories: list[int],
    operations: list[str],
    days: int = 365,
) -> None:
    """The authority registers a recycler in Karaganda and licenses it from a month ago
    for ``days`` more days."""
    today = dt.datetime.now(dt.UTC).date()
    registered = api.post(
        AUTHORITY,
        "org.registered",
        org=org,
        name=f"{org} JSC",
        bin=bin,
        roles=["recycler"],
        country="KZ",
        region="Karaganda Region",
    )
    assert registered.status_code == 201, registered.text
    licensed = api.post(
        AUTHORITY,
        "license.granted",
        org=org,
        license=f"LIC-{org}",
        valid_from=(today - dt.timedelta(days=30)).isoformat(),
        valid_to=(today + dt.timedelta(days=days)).isoformat(),
        waste_codes=waste_codes,
        categories=categories,
        operations=operations,
    )
    assert licensed.status_code == 201, licensed.text


def register_lot(api: Api, lot: str, **changes: Any) -> Any:
    """The collector registers a lot through the API."""
    return api.post("almaty-collect", "lot.registered", **lot_fields(lot, **changes))


@pytest.fixture
def tokens(api: Api) -> Iterator[dict[str, str]]:
    """Bearer tokens of a collector, another collector, an inspector, and a revoked one."""
    engine = make_engine(api.url)
    made = {
        "collector": create_token(engine, org="almaty-collect", role="member", label="phone")[1],
        "other": create_token(engine, org="other-collect", role="member", label="phone")[1],
        "inspector": create_token(engine, org="eco-inspect", role="inspector", label="desk")[1],
    }
    ident, made["revoked"] = create_token(engine, org="almaty-collect", role="member", label="x")
    revoke_token(engine, ident)
    yield made
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a bearer token."""
    return {"authorization": f"Bearer {token}"}
