"""What an inspector checks in the browser, for any test that ends with an inspector's look:
the dashboard's charts and lists, a lot found by search, the full audit."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page

#: Asia/Almaty, whose months the statistics use (UTC+5 all year).
ALMATY = dt.timedelta(hours=5)


def almaty_month(hours_ago: float) -> str:
    """The reporting month (YYYY-MM) of a moment ``hours_ago`` hours before now."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago) + ALMATY).strftime("%Y-%m")


def month_bars(page: Page) -> dict[tuple[str, int, str], int]:
    """The month chart's bars on the open dashboard: (month, category, measure) to grams."""
    found = page.locator("#chart-months g.chart-row rect.bar").evaluate_all(
        """bars => bars.map(b => [b.parentElement.dataset.month,
                                  Number(b.parentElement.dataset.category),
                                  b.dataset.measure, Number(b.dataset.grams)])"""
    )
    return {(month, category, measure): grams for month, category, measure, grams in found}


def check_dashboard(
    page: Page,
    base: str,
    *,
    bars: dict[tuple[str, int, str], int],
    discrepancies: list[str],
) -> dict[tuple[str, int, str], int]:
    """Open the inspector's dashboard and check it: the month chart has a labelled bar of
    exactly these grams for each (month, category, measure) in ``bars``, its data table says the
    same, and every lot in ``discrepancies`` is listed as open, linking to its page. Returns all
    the month chart's bars (for further checks)."""
    page.goto(f"{base}/app/inspector/")
    chart = page.locator("svg#chart-months")
    assert chart.get_attribute("role") == "img"
    assert chart.locator("title").first.text_content()
    assert chart.locator("desc").first.text_content()
    shown = month_bars(page)
    for key, grams in bars.items():
        assert shown.get(key) == grams, (key, shown)
        month, category, _ = key
        label = page.locator(
            f'#chart-months g[data-month="{month}"][data-category="{category}"] text.bar-label'
        )
        assert label.count() >= 1
        row = page.locator(f'#table-months tr[data-month="{month}"][data-category="{category}"]')
        assert row.count() == 1
    assert page.locator("svg#chart-regions rect.bar").count() >= 1
    listed = page.locator("#discrepancy-list tr[data-lot]").evaluate_all(
        "rows => rows.map(r => r.dataset.lot)"
    )
    for lot in discrepancies:
        assert lot in listed, (lot, listed)
        link = page.locator(f'#discrepancy-list tr[data-lot="{lot}"] a[href$="/lot/{lot}"]')
        assert link.count() == 1
    count = int(re.sub(r"\D", "", page.locator("#count-discrepancies").inner_text()))
    assert count >= len(discrepancies)
    return shown


def search_and_open_lot(page: Page, base: str, typed: str, lot: str) -> list[int]:
    """Search for ``typed`` (a lot id as someone types it), open the lot ``lot`` from the
    results, and return the seqs its timeline lists."""
    page.goto(f"{base}/app/inspector/search")
    page.fill("#q", typed)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/app/inspector/search\?q="))
    page.click(f'#found-lots a[href$="/lot/{lot}"]')
    page.wait_for_url(re.compile(f"/app/inspector/lot/{lot}$"))
    assert page.locator("#lot-id").inner_text() == lot
    seqs: list[int] = page.locator("#timeline li[data-seq]").evaluate_all(
        "items => items.map(i => Number(i.dataset.seq))"
    )
    return seqs


def run_audit(page: Page, base: str) -> str:
    """Start the full audit from its page, wait for it to finish, and return its outcome
    (``ok``, ``failed`` or ``error``)."""
    page.goto(f"{base}/app/inspector/audit")
    page.click("#audit-start")
    page.locator("#audit:not([data-state=running]):not([data-state=none])").wait_for(timeout=60_000)
    return str(page.locator("#audit").get_attribute("data-state"))
