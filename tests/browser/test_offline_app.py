"""Signing with no connection: events signed offline wait in the browser's outbox, go out when
the connection returns, and the log holds each exactly once, even when one is sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from ledger.demo import demo_lot
from tests.browser.webapp import demo_users, make_and_bind_key, shots, sign_in, token_of
from tests.serving import serving_demo

Demo = tuple[str, dict[str, tuple[str, str]]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("offline-demo")
    with serving_demo(where, lots=1) as (base, printed):
        yield base, demo_users(printed)


def _register(page: Page, lot: str) -> None:
    page.fill("#lot", lot)
    page.fill("#items", "3")
    page.fill("#weight_kg", "7,5")
    page.fill("#site", "Shymkent, Al-Farabi district")
    page.click("#register-form button[type=submit]")
    page.wait_for_function("document.getElementById('lot').value === ''")


def _outbox(page: Page) -> list[dict[str, object]]:
    items = page.evaluate("import('/static/app/queue.js').then((q) => q.items())")
    assert isinstance(items, list)
    return items


def test_events_signed_offline_are_logged_once_when_back_online(
    browser: Browser, demo: Demo
) -> None:
    base, users = demo
    inspector = token_of(users["inspector"][1])
    out = shots("offline")
    context = browser.new_context(locale="ru-RU", viewport={"width": 400, "height": 860})
    page = context.new_page()
    sign_in(page, users["collector"][1])
    key_id, _ = make_and_bind_key(page, base)
    page.goto(f"{base}/app/collector/register")

    context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False
    lots = [demo_lot(30), demo_lot(31)]
    for lot in lots:
        _register(page, lot)
    page.wait_for_selector("#queue-indicator[data-waiting='2'][data-online='false']")
    assert [i["state"] for i in _outbox(page)] == ["queued", "queued"]
    page.screenshot(path=str(out / "queued.png"), full_page=True)

    context.set_offline(False)
    page.wait_for_selector("#queue-indicator[data-waiting='0']", timeout=20_000)
    items = _outbox(page)
    assert [i["state"] for i in items] == ["logged", "logged"]
    page.goto(f"{base}/app/queue")
    page.wait_for_selector("#queue-items tr[data-state=logged]")
    assert page.locator("#queue-items tr[data-state=logged]").count() == 2
    page.screenshot(path=str(out / "outbox.png"), full_page=True)

    # The same bytes again, as a device that lost the answer would send them: the log
    # answers with the original entry, and appends nothing.
    first = items[0]
    again = page.evaluate(
        "(id) => import('/static/app/queue.js').then((q) => q.resend(id))", first["id"]
    )
    assert again == {"status": "logged", "seq": first["seq"], "duplicate": True}
    context.close()

    entries = httpx.get(
        f"{base}/v1/entries",
        params={"limit": 1000},
        headers={"authorization": f"Bearer {inspector}"},
        timeout=10,
    ).json()
    registrations = [
        e["entry"]["event"]["lot"]
        for e in entries
        if e["entry"]["event"]["type"] == "lot.registered" and e["entry"]["event"]["key"] == key_id
    ]
    assert sorted(registrations) == sorted(lots)
    assert {i["seq"] for i in items} == {
        e["seq"] for e in entries if e["entry"]["event"]["key"] == key_id
    }


def test_outbox_shows_a_refusal_with_the_log_s_reason(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    base, users = demo
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in(page, users["collector"][1])
    make_and_bind_key(page, base)
    page.goto(f"{base}/app/collector/register")
    _register(page, demo_lot(0))  # registered by the demo story already
    refused = page.locator("#form-result.bad")
    refused.wait_for(timeout=15_000)
    assert "D3M00000X" in refused.inner_text()
    (item,) = [i for i in _outbox(page) if i["state"] == "refused"]
    assert item["code"] == "reference"
    context.close()
