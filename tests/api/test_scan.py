"""The scan page: public status for anyone, the full record with a token or share link."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import text

from api.app import create_app
from ledger import i18n
from ledger.bundle import verify_bundle
from ledger.checkpoint import verify_checkpoint
from ledger.demo import lot_fields
from ledger.errors import VerificationError
from ledger.events import Submission, make_event, sign_event
from ledger.labels import ids
from ledger.labels.links import Links
from ledger.merkle import verify_inclusion
from ledger.note import VerifierKey
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.api.conftest import L1, L2, ORIGIN, Api, bearer, register_lot
from tests.storage.logs import block_of, drop_guards

JSON = {"accept": "application/json"}


def test_public_status_without_a_token(api: Api) -> None:
    register_lot(api, L1)
    record = api.client.get(f"/l/{L1}", headers=JSON).json()
    assert (record["lot"], record["registered"], record["full"]) == (L1, True, False)
    status = record["status"]
    assert (status["state"], status["holder_name"], status["category"]) == (
        "held",
        "almaty-collect LLP",
        6,
    )
    assert "timeline" not in record
    assert "bundle" not in record
    # The latest entry's proof leads to the root of the signed checkpoint.
    checkpoint = verify_checkpoint(record["checkpoint"], VerifierKey.parse(record["log_key"]))
    head = record["head"]
    verify_inclusion(
        index=head["seq"],
        size=checkpoint.size,
        leaf=bytes.fromhex(head["leaf_hash"]),
        proof=[bytes.fromhex(h) for h in head["proof"]],
        root=checkpoint.root,
    )


def test_the_page_speaks_the_browsers_language_and_switches(api: Api) -> None:
    register_lot(api, L1)
    for lang in i18n.LANGUAGES:
        page = api.client.get(f"/l/{L1}", headers={"accept-language": f"{lang},en;q=0.1"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert f'<html lang="{lang}">' in html
        assert escape(i18n.t(lang, "state.held")) in html
        assert escape(i18n.t(lang, "page.public_only")) in html
        # No message id leaks into the page as text.
        visible = re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)
        assert not re.search(r">[^<]*\b(page|badge|state|fail|detail)\.[a-z_]+", visible)
    switched = api.client.get(f"/l/{L1}?lang=kk", headers={"accept-language": "ru"})
    assert '<html lang="kk">' in switched.text


def test_typed_ids_are_normalised_and_mistyped_ones_refused(api: Api) -> None:
    register_lot(api, L1)
    typed = f"{L1[:4]}-{L1[4:8]}-{L1[8]}".lower()
    moved = api.client.get(f"/l/{typed}?lang=en", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/l/{L1}?lang=en"
    typo = L1[:-1] + ("0" if L1[-1] != "0" else "1")
    problem = api.client.get(f"/l/{typo}", headers=JSON)
    assert problem.status_code == 404
    assert problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["code"] == "lot_id"
    assert "failed its check character" in problem.json()["detail"]
    page = api.client.get(f"/l/{typo}?lang=en")
    assert page.status_code == 404
    assert "failed its check character" in page.text


def test_issued_labels_and_unknown_ids(api: Api) -> None:
    record = api.client.get(f"/l/{L2}", headers=JSON).json()
    assert (record["registered"], record["status"]["state"]) == (False, "issued")
    assert record["status"]["collector_name"] == "almaty-collect LLP"
    never = ids.make("YYYY", 3)
    assert api.client.get(f"/l/{never}", headers=JSON).status_code == 404
    assert api.client.get(f"/l/{never}").status_code == 404


def test_tokens_and_share_links_open_the_full_record(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    mine = api.client.get(f"/l/{L1}", headers={**JSON, **bearer(tokens["collector"])}).json()
    assert mine["full"] is True
    assert [step["type"] for step in mine["timeline"]] == ["lot.registered"]
    assert mine["bundle"]["entries"][-1]["seq"] == mine["history"][-1]
    other = api.client.get(f"/l/{L1}", headers={**JSON, **bearer(tokens["other"])}).json()
    assert other["full"] is False
    assert api.client.get(f"/l/{L1}", headers=bearer(tokens["revoked"])).status_code == 401

    made = api.client.post(f"/v1/lots/{L1}/share", headers=bearer(tokens["collector"]))
    assert made.status_code == 200, made.text
    link = httpx.URL(made.json()["url"])
    assert link.path == f"/l/{L1}"
    assert made.json()["qr_svg"].startswith("<svg")
    shared = api.client.get(link.path, params=link.params, headers=JSON).json()
    assert shared["full"] is True
    page = api.client.get(link.path, params={**link.params, "lang": "en"})
    assert i18n.t("en", "page.timeline") in page.text
    assert escape(i18n.t("en", "event.lot.registered", actor="almaty-collect LLP")) in page.text

    token = link.params["share"]
    expires, mac = token.split(".")
    stretched = api.client.get(
        f"/l/{L1}", params={"share": f"{int(expires) + 3600}.{mac}"}, headers=JSON
    )
    assert (stretched.status_code, stretched.json()["code"]) == (403, "bad_share_link")
    elsewhere = api.client.get(f"/l/{L2}", params={"share": token}, headers=JSON)
    assert elsewhere.status_code == 403
    # A browser with a bad link still sees the public status, and why the link failed.
    page = api.client.get(f"/l/{L1}", params={"share": f"{expires}.forged", "lang": "en"})
    assert page.status_code == 200
    assert "not valid for this lot" in page.text

    for who, status in ((tokens["other"], 404), (None, 401)):
        headers = {} if who is None else bearer(who)
        assert api.client.post(f"/v1/lots/{L1}/share", headers=headers).status_code == status
    long = api.client.post(
        f"/v1/lots/{L1}/share", params={"minutes": 10_000}, headers=bearer(tokens["collector"])
    )
    assert long.status_code == 400


def test_gs1_digital_links_resolve_to_the_scan_page(api: Api, tmp_path: Path) -> None:
    register_lot(api, L1)
    links = Links("https://scan.tizbek.kz", "9520123")
    assert links.label_url(L1) == f"https://scan.tizbek.kz/8004/9520123{L1}"
    with TestClient(create_app(api.url, tmp_path / "keys", links=links)) as client:
        moved = client.get(f"/8004/9520123{L1}", follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (308, f"/l/{L1}")
        assert client.get(f"/8004/9520123{L1}", headers=JSON).json()["lot"] == L1
        for wrong in (f"/8004/1234567{L1}", "/8004/9520123NOTALOT", "/8004/12"):
            assert client.get(wrong, headers=JSON).status_code == 404


@pytest.mark.parametrize("base", ["ftp://x", "https://", "https://x?q=1"])
def test_bad_base_urls_are_refused(base: str) -> None:
    with pytest.raises(ValueError, match="TIZBEK_BASE_URL"):
        Links(base)


def test_block_of_is_what_the_fixture_issued(api: Api) -> None:
    assert ids.split(L1)[0] == block_of("almaty-collect")


def test_a_damaged_entry_is_shown_and_named_not_a_server_error(
    api: Api, tokens: dict[str, str]
) -> None:
    """Bytes that no longer parse still reach the page, where verification names them."""
    lot = register_lot(api, L1).json()
    engine = make_engine(api.url)
    drop_guards(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE log_entries SET data = :d WHERE seq = :s"),
            {"d": b'{"event": garbled', "s": lot["seq"]},
        )
    engine.dispose()
    public = api.client.get(f"/l/{L1}", headers=JSON)
    assert public.status_code == 200
    assert public.json()["head"]["leaf_hash"] != lot["leaf_hash"]
    full = api.client.get(f"/l/{L1}", headers={**JSON, **bearer(tokens["inspector"])}).json()
    (step,) = full["timeline"]
    assert step["title"] == f"entry {lot['seq']} is malformed"
    with pytest.raises(VerificationError) as caught:
        verify_bundle(full["bundle"])
    assert caught.value.seq == lot["seq"]
    page = api.client.get(f"/l/{L1}", params={"lang": "en"}, headers=bearer(tokens["inspector"]))
    assert page.status_code == 200
    assert f"entry {lot['seq']} is malformed" in page.text


def test_entries_awaiting_a_checkpoint_are_counted_not_shown(
    api: Api, tokens: dict[str, str], tmp_path: Path
) -> None:
    """With a checkpoint interval, the record says how many of the lot's entries no signed
    checkpoint covers yet, and shows them once one does."""
    engine = make_engine(api.url)
    log = SqlLog.open(engine, tmp_path / "keys" / "log.key")
    log.checkpoint_interval = 3600.0
    collector = api.keys["almaty-collect"]

    def registration(lot: str) -> Submission:
        event = make_event(
            "lot.registered", log=ORIGIN, actor="almaty-collect", key=collector, **lot_fields(lot)
        )
        return sign_event(collector, event)

    try:
        log.append(registration(L2))  # this log's first batch signs
        log.append(registration(L1))  # within the interval: it waits
        record = api.client.get(f"/l/{L1}", headers={**JSON, **bearer(tokens["collector"])})
        mine = record.json()
        assert (mine["full"], mine["timeline"], mine["awaiting"]) == (True, [], 1)
        assert mine["bundle"]["entries"][-1]["seq"] < mine["history"][0]
        page = api.client.get(
            f"/l/{L1}", params={"lang": "en"}, headers=bearer(tokens["collector"])
        )
        assert escape(i18n.t("en", "page.awaiting", count=1)) in page.text
        log.sign_pending()
        mine = api.client.get(f"/l/{L1}", headers={**JSON, **bearer(tokens["collector"])}).json()
        assert [step["type"] for step in mine["timeline"]] == ["lot.registered"]
        assert mine["awaiting"] == 0
        page = api.client.get(
            f"/l/{L1}", params={"lang": "en"}, headers=bearer(tokens["collector"])
        )
        assert 'id="awaiting"' not in page.text
    finally:
        log.close()
        engine.dispose()
