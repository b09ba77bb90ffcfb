"""The web app's words in Kazakh, Russian and English, and figures written per locale.

The catalogues are gettext ``.po`` files in ``api/locale/<lang>/LC_MESSAGES/``.
They are compiled in memory when the app starts (Babel reads the ``.po`` and
writes the ``.mo`` bytes gettext loads), so a fresh clone needs no build step
and there is no compiled file to fall out of date. Each language has its own
Jinja2 environment with the i18n extension bound to its catalogue.

The language is an explicit choice (``?lang=`` for one page, or the
``tizbek_lang`` cookie the switcher sets), else the browser's
``Accept-Language``, else English. Dates, numbers and weights go through
Babel's CLDR formatters for the language.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger import i18n as words

LANGUAGES = words.LANGUAGES
DEFAULT = words.DEFAULT
NAMES = words.NAMES
LOCALE_DIR = Path(__file__).parents[1] / "locale"
TEMPLATE_DIR = Path(__file__).parents[1] / "templates"
LANG_COOKIE = "tizbek_lang"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues (extractors look for ``N_``) without translating it."""
    return message


def po_path(lang: str) -> Path:
    """Where the catalogue of ``lang`` lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The catalogue of ``lang``, compiled from its ``.po`` file in memory."""
    with po_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str) -> Any:
    """The ``gettext`` function of ``lang``."""
    return translations(lang).gettext


#: The unit weights are shown in.
KG = N_("kg")


def weight(grams: int, lang: str) -> str:
    """Grams as kilograms (one to three decimals), written the way ``lang`` writes numbers."""
    kg = format_decimal(grams / 1000, format="#,##0.0##", locale=lang)
    return f"{kg}\u00a0{gettext_for(lang)(KG)}"


def number(value: int | float, lang: str) -> str:
    """A number with the locale's grouping and decimal sign."""
    return str(format_decimal(value, locale=lang))


def when(iso: str | None, lang: str) -> str:
    """A UTC time from the log, in the locale's medium date and time format."""
    if not iso:
        return ""
    at = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{format_datetime(at, 'medium', tzinfo=dt.UTC, locale=lang)} UTC"


def day(iso: str | None, lang: str) -> str:
    """A date (YYYY-MM-DD) in the locale's medium date format."""
    if not iso:
        return ""
    from babel.dates import format_date

    return str(format_date(dt.date.fromisoformat(iso[:10]), "medium", locale=lang))


@cache
def environment(lang: str) -> Environment:
    """The Jinja2 environment of ``lang``: templates, gettext and the locale's formatters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["weight"] = lambda grams: weight(int(grams), lang)
    env.filters["number"] = lambda value: number(value, lang)
    env.filters["when"] = lambda iso: when(iso, lang)
    env.filters["day"] = lambda iso: day(iso, lang)
    env.globals["category_name"] = lambda n: words.t(lang, f"category.{n}")
    env.globals["state_name"] = lambda s: words.t(lang, f"state.{s}")
    return env


def chosen(query: Mapping[str, str], cookies: Mapping[str, str]) -> str | None:
    """An explicit choice of language: ``?lang=`` first, then the cookie."""
    for value in (query.get("lang"), cookies.get(LANG_COOKIE)):
        if value in LANGUAGES:
            return value
    return None


def language(request: Request) -> str:
    """The language to answer ``request`` in."""
    return words.negotiate(
        request.headers.get("accept-language"),
        chosen(request.query_params, request.cookies),
    )
