"""The scan page's badge is earned: it turns verified for a sound lot and names what failed
for a lot whose entry was changed in the database behind the log's back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import text

from ledger.demo import AUTHORITY_ID, demo_lot, lot_fields
from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.serving import serving
from tests.tizbek_cli import demo_token, run_tizbek


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The demo log served by `tizbek serve`: base URL, database URL and an inspector token."""
    where = tmp_path_factory.mktemp("scan-demo")
    made = run_tizbek("demo", "--no-serve", "--lots", "3", "--dir", str(where / "d"), cwd=where)
    assert made.returncode == 0, made.stderr
    token = demo_token(made.stdout)
    url = f"sqlite:///{where / 'd' / 'demo.db'}"
    env = {"TIZBEK_DATABASE_URL": url, "TIZBEK_KEY_DIR": str(where / "d" / "keys")}
    with serving(env, where) as base:
        yield base, url, token


def _share(base: str, token: str, lot: str) -> str:
    made = httpx.post(
        f"{base}/v1/lots/{lot}/share", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert made.status_code == 200, made.text
    return f"{base}{httpx.URL(made.json()['url']).raw_path.decode()}"


def _badge(page: Page, url: str, shot: Path) -> tuple[str, str, str | None]:
    page.goto(url)
    page.wait_for_selector("#badge:not([data-state=checking])", timeout=15_000)
    page.screenshot(path=str(shot), full_page=True)
    badge = page.locator("#badge")
    return (
        badge.get_attribute("data-state") or "",
        badge.inner_text(),
        badge.get_attribute("data-failure"),
    )


def _tamper(url: str, seq: int, old: bytes, new: bytes) -> None:
    """What an attacker with the database could do: drop the guard, change one entry's bytes."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS log_entries_no_update"))
        data = bytes(
            conn.execute(
                text("SELECT data FROM log_entries WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )
        assert old in data
        conn.execute(
            text("UPDATE log_entries SET data = :d WHERE seq = :s"),
            {"d": data.replace(old, new, 1), "s": seq},
        )
    engine.dispose()


def test_badge_verifies_a_sound_lot_and_names_a_tampered_entry(
    browser: Browser, demo_server: tuple[str, str, str], tmp_path: Path
) -> None:
    base, url, token = demo_server
    page = browser.new_page(locale="en-GB", viewport={"width": 400, "height": 900})
    sound, changed, changed_head = demo_lot(0), demo_lot(1), demo_lot(2)

    state, words, _ = _badge(page, f"{base}/l/{sound}", tmp_path / "public.png")
    assert state == "verified", words
    assert "latest entry is in the signed log" in words
    state, words, _ = _badge(page, _share(base, token, sound), tmp_path / "full.png")
    assert state == "verified", words
    assert "5 entries are in the signed log" in words
    assert page.locator(".timeline li").count() == 5

    # Lot 1's registration claims 182.5 kg; make it claim 982.5 kg.
    history = httpx.get(
        f"{base}/v1/lots/{changed}", headers={"authorization": f"Bearer {token}"}, timeout=10
    ).json()["history"]
    registration = history[0]
    _tamper(url, registration, b'"weight_g":182500', b'"weight_g":982500')
    state, words, failure = _badge(page, _share(base, token, changed), tmp_path / "tampered.png")
    assert state == "failed", words
    assert failure == "fail.inclusion"
    assert f"entry {registration} is not in the signed log" in words
    assert page.locator(f'li.failed[data-seq="{registration}"]').count() == 1

    # Lot 2's latest entry (its processing) changed: even the public status shows it.
    head = httpx.get(
        f"{base}/v1/lots/{changed_head}", headers={"authorization": f"Bearer {token}"}, timeout=10
    ).json()["head_seq"]
    _tamper(url, head, b'"operation":"R4"', b'"operation":"R5"')
    state, words, failure = _badge(page, f"{base}/l/{changed_head}", tmp_path / "public-bad.png")
    assert (state, failure) == ("failed", "fail.inclusion"), words
    assert f"entry {head} is not in the signed log" in words
    page.close()


def test_badge_speaks_each_language(browser: Browser, demo_server: tuple[str, str, str]) -> None:
    base, _, _ = demo_server
    expected = {"kk": "Тексерілді", "ru": "Проверено", "en": "Verified"}
    page = browser.new_page()
    for lang, word in expected.items():
        page.goto(f"{base}/l/{demo_lot(0)}?lang={lang}")
        page.wait_for_selector("#badge:not([data-state=checking])", timeout=15_000)
        assert page.locator("#badge").inner_text().startswith(word)
        assert page.locator("html").get_attribute("lang") == lang
    page.close()


def test_badge_verifies_what_a_checkpoint_covers_and_counts_what_awaits_one(
    browser: Browser, demo_server: tuple[str, str, str], tmp_path: Path
) -> None:
    """Entries a log with a checkpoint interval has not yet signed for do not fail the badge:
    the page counts them apart, and verifies them once a checkpoint covers them."""
    base, url, token = demo_server
    keys = Path(url.removeprefix("sqlite:///")).parent / "keys"
    engine = make_engine(url)
    log = SqlLog.open(engine, keys / "log.key")
    log.checkpoint_interval = 3600.0
    authority, phone = SigningKey.load(keys / "authority.key"), SigningKey.generate()
    lot = demo_lot(900)

    def submit(key: SigningKey, actor: str, etype: str, **fields: Any) -> None:
        event = make_event(etype, log=log.signer.name, actor=actor, key=key, **fields)
        log.append(sign_event(key, event))

    page = browser.new_page(locale="en-GB", viewport={"width": 400, "height": 900})
    try:
        # This log's first batch signs; the lot's registration, within the interval, waits.
        submit(
            authority,
            AUTHORITY_ID,
            "key.bound",
            org="almaty-collect",
            public_key=phone.public.base64,
            key_id=phone.key_id,
            label="second phone",
        )
        submit(phone, "almaty-collect", "lot.registered", **lot_fields(lot))
        state, words, _ = _badge(page, _share(base, token, lot), tmp_path / "awaiting.png")
        assert state == "verified", words
        assert "0 entries are in the signed log" in words
        assert page.locator(".timeline li").count() == 0
        assert (
            "awaiting the log's next signed checkpoint: 1" in page.locator("#awaiting").inner_text()
        )

        log.sign_pending()
        state, words, _ = _badge(page, _share(base, token, lot), tmp_path / "covered.png")
        assert state == "verified", words
        assert "1 entries are in the signed log" in words
        assert page.locator(".timeline li").count() == 1
        assert page.locator("#awaiting").count() == 0
    finally:
        page.close()
        log.close()
        engine.dispose()
