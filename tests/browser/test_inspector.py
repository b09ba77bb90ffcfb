"""The inspector's pages in the browser against `tizbek demo`: the dashboard's charts hold the
demo's figures and list its open discrepancy, search finds a lot as a person types its id and
opens its timeline, whose verification page verifies, the full audit finishes OK over every
entry, and every page speaks Kazakh, Russian and English with nothing left untranslated."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from api.web import translations
from ledger.demo import SHORT_DECLARED_G, demo_lot
from tests.browser.inspecting import (
    almaty_month,
    check_dashboard,
    run_audit,
    search_and_open_lot,
)
from tests.browser.test_app_languages import untranslated
from tests.browser.webapp import demo_users, shots, sign_in, token_of
from tests.serving import serving_demo

Demo = tuple[str, dict[str, tuple[str, str]]]

LOTS = 2
#: The demo's first journey: each lot registered at 182.5 kg, weighed at 181.9 kg and treated.
LOT_G, WEIGHED_G = 182_500, 181_900
#: The second journey's lot, on the last label of the block, with its open discrepancy.
SHORT_LOT = demo_lot(999)

PAGES = (
    "/app/inspector/",
    "/app/inspector/search?q=karaganda",
    f"/app/inspector/lot/{SHORT_LOT}",
    "/app/inspector/audit",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("inspector-demo")
    with serving_demo(where, lots=LOTS) as (base, printed):
        yield base, demo_users(printed)


def test_the_inspector_sees_finds_and_audits(browser: Browser, demo: Demo) -> None:
    base, users = demo
    out = shots("inspector")
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, users["inspector"][1])
    nav = page.locator("nav.roles a").evaluate_all("links => links.map(a => a.pathname)")
    assert "/app/inspector/" in nav
    # The authority signs with its own keys: no page nags it to bind a browser's, and the
    # home page still settles what it says of this browser's key.
    page.goto(f"{base}/app/")
    assert page.locator("#key-warning").count() == 0
    page.wait_for_selector("#key-status:not([data-state=checking])", timeout=15_000)
    assert "/app/inspector/audit" in nav

    # The demo's journeys as the charts show them: collected in the morning 30 and 29 hours
    # ago, the first journey's lots treated two hours ago (the short lot is not treated yet).
    bars = {
        (almaty_month(30), 6, "collected"): LOTS * LOT_G,
        (almaty_month(29), 5, "collected"): SHORT_DECLARED_G,
        (almaty_month(2), 6, "processed"): LOTS * WEIGHED_G,
    }
    shown = check_dashboard(page, base, bars=bars, discrepancies=[SHORT_LOT])
    assert shown[(almaty_month(29), 5, "processed")] == 0
    # Only months and categories with something collected or processed are drawn.
    assert all(
        shown.get((m, c, "collected")) or shown.get((m, c, "processed")) for m, c, _ in shown
    )
    assert page.locator("#count-discrepancies").inner_text() == "1"
    row = page.locator(f'#discrepancy-list tr[data-lot="{SHORT_LOT}"]')
    assert "96.0\u00a0kg\t84.7\u00a0kg\t-11.8 %" in row.inner_text()
    assert page.locator("#count-transit").inner_text() == "0"
    regions = page.locator("#table-regions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.region)"
    )
    assert regions == ["Almaty", "Karaganda Region"]
    recycler = page.locator('#balance-list tr[data-org="karaganda-recycling"]')
    assert recycler.count() == 2  # last month and this one
    page.screenshot(path=str(out / "dashboard.png"), full_page=True)

    # Search with the id as a person types it from a label: lower case, with a dash.
    typed = f"{SHORT_LOT[:4].lower()}-{SHORT_LOT[4:].lower()}"
    seqs = search_and_open_lot(page, base, typed, SHORT_LOT)
    doc = httpx.get(
        f"{base}/v1/lots/{SHORT_LOT}",
        headers={"authorization": f"Bearer {token_of(users['inspector'][1])}"},
        timeout=10,
    ).json()
    assert seqs == doc["history"]
    assert page.locator("#discrepancy[data-status=open]").count() == 1
    page.screenshot(path=str(out / "lot.png"), full_page=True)
    page.click("#verify-link")
    page.wait_for_selector("#badge:not([data-state=checking])", timeout=15_000)
    assert page.locator("#badge").get_attribute("data-state") == "verified"
    assert page.locator(".timeline li").count() == len(seqs)

    # The full audit, over every entry of the log.
    size = int(httpx.get(f"{base}/v1/checkpoint", timeout=10).text.splitlines()[1])
    assert run_audit(page, base) == "ok"
    assert page.locator("#audit-progress").get_attribute("value") == "100"
    words = page.locator("#audit-ok").inner_text()
    assert words.startswith(f"OK: {size} entries"), words
    assert f"size {size}" in page.locator("#audit-checkpoint").inner_text()
    page.screenshot(path=str(out / "audit.png"), full_page=True)
    # Reloaded, the page shows the last audit's outcome.
    page.reload()
    page.locator("#audit-ok").wait_for()

    # On a phone the dashboard still reads: nothing wider than the screen but its tables.
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{base}/app/inspector/")
    width = phone.evaluate("document.querySelector('#chart-months').getBoundingClientRect().width")
    assert width <= 390
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(out / "dashboard-phone.png"), full_page=True)
    context.close()


def test_other_roles_are_refused(browser: Browser, demo: Demo) -> None:
    base, users = demo
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, users["collector"][1])
    answer = page.goto(f"{base}/app/inspector/")
    assert answer is not None
    assert answer.status == 403
    refused = context.request.post(
        f"{base}/app/inspector/audit", headers={"origin": base, "accept": "application/json"}
    )
    assert refused.status == 403
    context.close()


def test_the_inspector_pages_speak_each_language(browser: Browser, demo: Demo) -> None:
    base, users = demo
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, users["inspector"][1])
    page.goto(f"{base}/app/inspector/audit")
    page.click("#audit-start")
    page.locator("#audit-ok").wait_for(timeout=60_000)
    for lang in translations.LANGUAGES:
        out = shots(f"inspector/{lang}")
        for path in PAGES:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{base}{path}{joiner}lang={lang}")
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            if path.endswith("/audit"):
                page.locator("#audit-ok").wait_for()
            shown = untranslated(page, lang)
            assert not shown, f"{path} in {lang} shows untranslated {shown}"
            if path == "/app/inspector/" and lang != "en":  # the charts' own words, too
                svg = " ".join(page.locator("svg title, svg desc").all_text_contents())
                assert "Collected" not in svg, svg
                assert "Kilograms" not in svg, svg
            name = re.sub(r"\W+", "-", path.removeprefix("/app/inspector")).strip("-")
            page.screenshot(path=str(out / f"{name or 'dashboard'}.png"), full_page=True)
    context.close()
