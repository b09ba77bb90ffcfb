"""Every page of the app in Kazakh, Russian and English, with no message left in English where
a translation exists, and the browser's canonical JSON byte for byte what Python's rfc8785
writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import rfc8785
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, Page

from api.web import translations
from ledger.demo import demo_lot
from tests.browser.webapp import demo_users, make_and_bind_key, shots, sign_in
from tests.serving import serving_demo

Demo = tuple[str, dict[str, tuple[str, str]]]

PAGES = (
    "/app/signin",
    "/app/",
    "/app/key",
    "/app/queue",
    "/app/collector/",
    "/app/collector/register",
    "/app/collector/dispatch",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("languages-demo")
    with serving_demo(where, lots=1) as (base, printed):
        yield base, demo_users(printed)


def _english_left(lang: str) -> set[str]:
    """English messages that must not show in ``lang``: those whose translation differs."""
    catalogue = translations.translations(lang)
    with translations.po_path("en").open("rb") as po:
        english = {str(m.id) for m in read_po(po) if m.id}
    found = set()
    for message in english:
        plain = re.sub(r"%\(\w+\)s|\{\w+\}", "", message).strip()
        if " " in plain and catalogue.gettext(message) != message:
            found.add(plain.split("  ")[0])
    return found


def _visible_text(page: Page) -> str:
    return page.locator("body").inner_text() + " ".join(
        page.locator("[aria-label], option, input[type=submit]").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label') || e.textContent)"
        )
    )


def untranslated(page: Page, lang: str) -> list[str]:
    """The English messages ``page`` shows in ``lang`` although the catalogue translates them."""
    if lang == "en":
        return []
    text = _visible_text(page)
    return sorted(m for m in _english_left(lang) if m in text)


#: The transporter's and the recycler's pages, as the demo's story leaves them (its transfer
#: received and its lot treated; tests/browser/test_journey.py sees them mid-journey).
ROLE_PAGES = {
    "transporter": (
        "/app/transporter/",
        "/app/transporter/take",
        "/app/transporter/take?transfer=TR-DEMO-1",
        f"/app/transporter/take?lot={demo_lot(0)}",
    ),
    "recycler": (
        "/app/recycler/",
        f"/app/recycler/?lot={demo_lot(5)}",
        "/app/recycler/receive?transfer=TR-DEMO-1",
        "/app/recycler/discrepancies",
        "/app/recycler/lots",
        f"/app/recycler/process?lot={demo_lot(0)}",
    ),
}


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_transporter_and_recycler_pages_speak_each_language(
    browser: Browser, demo: Demo, role: str
) -> None:
    base, users = demo
    context = browser.new_context(viewport={"width": 400, "height": 860})
    page = context.new_page()
    sign_in(page, users[role][1])
    for lang in translations.LANGUAGES:
        out = shots(f"languages/{lang}")
        for path in ROLE_PAGES[role]:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{base}{path}{joiner}lang={lang}")
            assert page.locator("html").get_attribute("lang") == lang
            shown = untranslated(page, lang)
            assert not shown, f"{path} in {lang} shows untranslated {shown}"
            name = re.sub(r"[^\w-]+", "-", path.strip("/"))
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    context.close()


def test_every_page_speaks_each_language(browser: Browser, demo: Demo) -> None:
    base, users = demo
    context = browser.new_context(viewport={"width": 400, "height": 860})
    page = context.new_page()
    sign_in(page, users["collector"][1])
    make_and_bind_key(page, base)
    for lang in translations.LANGUAGES:
        out = shots(f"languages/{lang}")
        left = _english_left(lang) if lang != "en" else set()
        for path in PAGES:
            query = f"?lang={lang}" + (f"&lot={demo_lot(40)}" if "register" in path else "")
            page.goto(f"{base}{path}{query}")
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            if path in ("/app/", "/app/key"):
                page.locator("#key-status[data-state=bound]").wait_for()
            text = _visible_text(page)
            shown = sorted(m for m in left if m in text)
            assert not shown, f"{path} in {lang} shows untranslated {shown}"
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    # The switcher remembers the choice for the pages that follow.
    page.goto(f"{base}/app/")
    page.click("nav.langs a[hreflang=kk]")
    page.wait_for_url(re.compile(r"/app/$"))
    assert page.locator("html").get_attribute("lang") == "kk"
    page.goto(f"{base}/app/key")
    assert page.locator("html").get_attribute("lang") == "kk"
    page.locator("#key-status[data-state=bound]").wait_for()
    assert "Бұл браузер қол қоя алады" in page.locator("#key-status").inner_text()
    context.close()


def test_browser_language_is_followed_without_a_choice(browser: Browser, demo: Demo) -> None:
    base, _ = demo
    for locale, lang in (("ru-RU", "ru"), ("kk-KZ", "kk"), ("de-DE", "en")):
        context = browser.new_context(locale=locale)
        page = context.new_page()
        page.goto(f"{base}/app/signin")
        assert page.locator("html").get_attribute("lang") == lang
        context.close()


VALUES: list[Any] = [
    {"type": "lot.registered", "weight_g": 182500, "items": 0, "hazardous": True, "x": None},
    {"z": 1, "a": [3, 2, {"b": -1, "a": 9007199254740991}], "é": "Тізбек", "E": "€"},
    {"\u20ac": 1, "\U0001f600": 2, "\ufb01": 3, "\r": 4, "1": 5, "": 6, "a\u0000b": '\u001f\t"'},
    {"site": "Алматы, Бостандық ауданы «№5»", "list": [], "obj": {}, "neg": -9007199254740991},
    ["line\nbreak", "back\\slash", "\u2028\u2029", "\u007f", "</script>"],
]


def test_browser_canonical_json_is_rfc8785(browser: Browser, demo: Demo) -> None:
    base, _ = demo
    page = browser.new_page()
    page.goto(f"{base}/app/signin")
    produced = page.evaluate(
        """(values) => import('/static/app/signing.js').then((s) =>
             values.map((v) => Array.from(s.canonicalBytes(v))))""",
        VALUES,
    )
    for value, got in zip(VALUES, produced, strict=True):
        assert bytes(got) == rfc8785.dumps(value), json.dumps(value)
    page.close()
