"""The inspector's pages on the server: the full audit's start and progress endpoints (one audit
at a time, its outcome, a tampered entry named by its seq), who may use them, and search."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from ledger.custody import rules
from ledger.demo import (
    AUTHORITY_ID,
    DEFAULT_ORIGIN,
    DEMO_USERS,
    DemoLog,
    build_demo_log,
    demo_lot,
    lot_fields,
)
from ledger.events import Submission, make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage import migrate
from ledger.storage.backup import export_header, import_lines
from ledger.storage.create import LOG_KEY_FILE
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from ledger.storage.tokens import create_token
from tests.storage.logs import drop_guards

ORIGIN = DEFAULT_ORIGIN
SAME_ORIGIN = {"origin": "http://testserver", "accept": "application/json"}


class Served:
    """A demo log stored in SQLite and the app over it, with an inspector and a collector."""

    def __init__(self, folder: Path, demo: DemoLog) -> None:
        self.demo = demo
        self.url = f"sqlite:///{folder / 'log.db'}"
        migrate.upgrade(self.url)
        self.engine: Engine = make_engine(self.url)
        header = export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])
        import_lines(self.engine, [header] + [e.data.decode() for e in demo.log.entries])
        (folder / "keys").mkdir()
        demo.log.signer.key.save(folder / "keys" / LOG_KEY_FILE)
        self.keys = folder / "keys"
        authority = AUTHORITY_ID
        self.inspector = create_token(self.engine, org=authority, role="inspector", label="t")[1]
        self.collector = create_token(
            self.engine, org=DEMO_USERS["collector"], role="member", label="t"
        )[1]

    def client(self, token: str) -> TestClient:
        client = TestClient(create_app(self.url, self.keys))
        client.cookies.set("tizbek_session", token)
        return client


def _served(tmp_path: Path, lots: int) -> Iterator[Served]:
    served = Served(tmp_path, build_demo_log(lots=lots))
    yield served
    served.engine.dispose()


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Served]:
    yield from _served(tmp_path, 2)


def _finished(client: TestClient) -> dict[str, Any]:
    for _ in range(600):
        progress: dict[str, Any] = client.get("/app/inspector/audit/progress").json()
        assert progress["checked"] <= progress["total"]
        if progress["state"] != "running":
            return progress
        time.sleep(0.05)
    raise AssertionError("the audit did not finish")


def test_the_audit_runs_in_the_server_and_reports_ok(small: Served) -> None:
    with small.client(small.inspector) as client:
        assert client.get("/app/inspector/audit/progress").json() == {"state": "none"}
        started = client.post("/app/inspector/audit", headers=SAME_ORIGIN)
        assert started.status_code == 202
        assert started.json()["started_now"] is True
        done = _finished(client)
        size = small.demo.log.size
        assert (done["state"], done["entries"], done["checked"], done["total"]) == (
            "ok",
            size,
            size,
            size,
        )
        assert done["percent"] == 100
        assert (done["checkpoints"], done["checkpoint"]["size"]) == (4, size)
        assert done["checkpoint"]["root"] == small.demo.log.checkpoints[-1][0].root.hex()
        assert (done["failure"], done["violations"]) == (None, [])
        # Without script, the form posts and comes back to the page.
        back = client.post(
            "/app/inspector/audit", headers={"origin": "http://testserver"}, follow_redirects=False
        )
        assert (back.status_code, back.headers["location"]) == (303, "/app/inspector/audit")
        _finished(client)


def test_a_changed_byte_fails_the_audit_at_its_seq(small: Served) -> None:
    drop_guards(small.engine)
    dispatch = small.demo.log.entries[11]  # after two lots registered at seqs 9 and 10
    data = dispatch.data.replace(b'"vehicle":"KZ 123', b'"vehicle":"KZ 124')
    assert data != dispatch.data
    with small.engine.begin() as conn:
        conn.execute(text("UPDATE log_entries SET data = :d WHERE seq = 11"), {"d": data})
    with small.client(small.inspector) as client:
        client.post("/app/inspector/audit", headers=SAME_ORIGIN)
        done = _finished(client)
        assert done["state"] == "failed"
        assert (done["failure"]["seq"], done["failure"]["check"]) == (11, "leaf")
        assert done["entries"] is None  # it stopped there


def test_one_audit_at_a_time(tmp_path: Path) -> None:
    # Long enough (about 2,000 entries) that the second click comes while the first runs.
    for served in _served(tmp_path, 1_000):
        with served.client(served.inspector) as client:
            first = client.post("/app/inspector/audit", headers=SAME_ORIGIN).json()
            second = client.post("/app/inspector/audit", headers=SAME_ORIGIN).json()
            assert (first["started_now"], second["started_now"]) == (True, False)
            assert second["state"] == "running"
            assert second["started"] == first["started"]
            during = client.get("/app/inspector/audit/progress").json()
            assert during["total"] == served.demo.log.size
            done = _finished(client)
            assert (done["state"], done["entries"]) == ("ok", served.demo.log.size)
            again = client.post("/app/inspector/audit", headers=SAME_ORIGIN).json()
            assert again["started_now"] is True  # the last one had finished
            _finished(client)


def test_only_inspectors_and_only_from_the_app(small: Served) -> None:
    with small.client(small.collector) as client:
        assert client.get("/app/inspector/", follow_redirects=False).status_code == 403
        assert client.post("/app/inspector/audit", headers=SAME_ORIGIN).status_code == 403
        assert client.get("/app/inspector/audit/progress").status_code == 403
    with small.client(small.inspector) as client:
        other = {"origin": "https://elsewhere.example", "accept": "application/json"}
        assert client.post("/app/inspector/audit", headers=other).status_code == 403
        assert client.get("/app/inspector/audit/progress").json() == {"state": "none"}
    anonymous = TestClient(create_app(small.url, small.keys))
    with anonymous:
        answer = anonymous.get("/app/inspector/audit/progress", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/app/signin")


def test_search_finds_a_lot_a_transfer_and_organisations(small: Served) -> None:
    lot = demo_lot(999)
    with small.client(small.inspector) as client:
        typed = f"{lot[:4].lower()} {lot[4:].lower()}"
        page = client.get("/app/inspector/search", params={"q": typed}).text
        assert f'href="/app/inspector/lot/{lot}"' in page
        page = client.get("/app/inspector/search", params={"q": "tr-demo-2"}).text
        assert 'data-transfer="TR-DEMO-2"' in page
        assert f"/app/inspector/lot/{lot}" in page
        page = client.get("/app/inspector/search", params={"q": "Karaganda"}).text
        assert 'data-org="karaganda-recycling"' in page
        assert 'data-org="almaty-collect"' not in page
        assert "<dd>Recycler</dd>" in page  # roles as the app names them
        page = client.get("/app/inspector/search", params={"q": "nothing-like-it"}).text
        assert 'id="no-results"' in page
        timeline = client.get(f"/app/inspector/lot/{lot.lower()}").text
        for seq in (16, 17, 18, 19):
            assert f'data-seq="{seq}"' in timeline
        assert f'href="/l/{lot}?share=' in timeline
        missing = client.get("/app/inspector/lot/NOSUCHLOT")
        assert missing.status_code == 404


def test_broken_custody_rules_are_listed_with_their_seqs(
    small: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dishonest server: it checks keys, signatures and links, not custody, and logs a
    # treatment of a lot the recycler does not hold.
    log = SqlLog(small.engine, small.demo.log.signer)
    collector = small.demo.keys["almaty-collect"]
    registered, _ = log.append(_signed(collector, "lot.registered", **lot_fields(demo_lot(7))))
    monkeypatch.setattr(rules.Custody, "apply", lambda self, event, **_: rules.Changes())
    treated, _ = log.append(
        sign_event(
            small.demo.keys["karaganda-recycling"],
            make_event(
                "lot.processed",
                log=ORIGIN,
                actor="karaganda-recycling",
                key=small.demo.keys["karaganda-recycling"],
                lot=demo_lot(7),
                after=registered.hash.hex(),
                operation="R4",
                outputs=[{"waste_code": "19 12 02", "material": "ferrous", "weight_g": 1000}],
            ),
        )
    )
    monkeypatch.undo()
    log.close()
    with small.client(small.inspector) as client:
        client.post("/app/inspector/audit", headers=SAME_ORIGIN)
        done = _finished(client)
    assert (done["state"], done["failure"]) == ("failed", None)
    assert done["entries"] == treated.seq + 1  # every hash, signature and node verified
    assert [(v["seq"], v["check"]) for v in done["violations"]] == [(treated.seq, "rule")]
    assert "holder" in done["violations"][0]["message"]


def _signed(key: SigningKey, etype: str, **fields: Any) -> Submission:
    return sign_event(key, make_event(etype, log=ORIGIN, actor="almaty-collect", key=key, **fields))
