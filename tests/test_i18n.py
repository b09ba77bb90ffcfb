"""Every message in every language, languages picked from the browser, figures per locale."""

from __future__ import annotations

import re

import pytest

from ledger import i18n


def test_every_message_exists_in_every_language_with_the_same_fields() -> None:
    keys = set(i18n.MESSAGES["en"])
    for lang in i18n.LANGUAGES:
        assert set(i18n.MESSAGES[lang]) == keys, lang
        for key in keys:
            fields = set(re.findall(r"{(\w+)}", i18n.MESSAGES["en"][key]))
            assert set(re.findall(r"{(\w+)}", i18n.MESSAGES[lang][key])) == fields, (lang, key)
            assert i18n.MESSAGES[lang][key].strip(), (lang, key)


@pytest.mark.parametrize(
    ("header", "choice", "expected"),
    [
        ("kk-KZ,kk;q=0.9,ru;q=0.8", None, "kk"),
        ("ru-RU,ru;q=0.9,en;q=0.5", None, "ru"),
        ("de-DE,en;q=0.3,ru;q=0.7", None, "ru"),
        ("fr", None, "en"),
        (None, None, "en"),
        ("ru", "kk", "kk"),
        ("ru", "xx", "ru"),
        ("kk;q=0,ru;q=0.1", None, "ru"),
        ("kk;q=oops", None, "en"),
    ],
)
def test_language_follows_choice_then_browser(
    header: str | None, choice: str | None, expected: str
) -> None:
    assert i18n.negotiate(header, choice) == expected


def test_figures_are_written_per_language() -> None:
    assert i18n.weight(1_234_500, "en") == "1,234.5 kg"
    assert i18n.weight(1_234_500, "ru") == "1\u202f234,5 кг"
    assert i18n.when("2026-11-02T08:18:00Z", "kk") == "02.11.2026 08:18 UTC"
    assert i18n.when("2026-11-02T08:18:00Z", "en") == "2026-11-02 08:18 UTC"
    assert i18n.category(6, "kk").startswith("6 · Шағын АТ")
