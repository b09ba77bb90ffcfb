"""Every message the web app shows is translated in every catalogue, with the same placeholders,
and the catalogues hold nothing the app no longer uses."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from api.web import translations
from api.web.extraction import extract

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def _catalogue(lang: str) -> dict[str, str]:
    with translations.po_path(lang).open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po, locale=lang) if m.id}


def test_the_extraction_finds_the_app_s_messages() -> None:
    found = {str(m.id) for m in extract() if m.id}
    assert {"Sign in", "Register a lot", "Logged as entry {seq}", "kg"} <= found
    assert "Other discarded electrical and electronic equipment" in found  # from Python, N_()


@pytest.mark.parametrize("lang", translations.LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    used = {str(m.id) for m in extract() if m.id}
    catalogue = _catalogue(lang)
    missing = sorted(used - set(catalogue))
    untranslated = sorted(m for m in used & set(catalogue) if not catalogue[m].strip())
    unused = sorted(set(catalogue) - used)
    assert not missing, f"{lang}: not in the catalogue (run scripts/app_messages.py): {missing}"
    assert not untranslated, f"{lang}: untranslated: {untranslated}"
    assert not unused, f"{lang}: no longer used (run scripts/app_messages.py): {unused}"
    for message in used:
        assert sorted(PLACEHOLDER.findall(catalogue[message])) == sorted(
            PLACEHOLDER.findall(message)
        ), f"{lang}: placeholders differ in {message!r}"


def test_translations_differ_from_english_where_a_language_writes_differently() -> None:
    for lang in ("kk", "ru"):
        catalogue = _catalogue(lang)
        same = [m for m, text in catalogue.items() if text == m and re.search("[a-z]{3}", m)]
        assert not same, f"{lang}: left in English: {same}"


def test_the_compiled_catalogues_answer_in_each_language() -> None:
    said = {
        lang: translations.gettext_for(lang)("Register a lot") for lang in translations.LANGUAGES
    }
    assert said == {
        "kk": "Партияны тіркеу",
        "ru": "Зарегистрировать партию",
        "en": "Register a lot",
    }
    assert translations.weight(182_500, "ru") == "182,5\u00a0кг"
    assert translations.weight(48_250, "en") == "48.25\u00a0kg"
    assert translations.weight(1_234_500, "kk") == "1\u00a0234,5\u00a0кг"
