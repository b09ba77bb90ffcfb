"""Gather the web app's messages and bring its catalogues up to date.

Extracts every message from the app's Python modules (``_``, ``gettext``,
``N_``) and Jinja2 templates with Babel, then updates
``api/locale/<lang>/LC_MESSAGES/messages.po`` for Kazakh, Russian and English:
new messages are added untranslated, translations of messages that remain are
kept, messages no longer used are dropped. English copies each message id.
Translate the new entries by hand; ``tests/web/test_catalogues.py`` fails
while any is missing.

    python scripts/app_messages.py
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from api.web.extraction import extract

ROOT = Path(__file__).parents[1]
LANGUAGES = ("kk", "ru", "en")


def po_file(lang: str) -> Path:
    """The catalogue file of ``lang``."""
    return ROOT / "api" / "locale" / lang / "LC_MESSAGES" / "messages.po"


def main() -> None:
    template = extract()
    for lang in LANGUAGES:
        path = po_file(lang)
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as f:
                old = {str(m.id): str(m.string) for m in read_po(f, locale=lang) if m.id}
        catalog = Catalog(
            locale=lang,
            project="Tizbek web app",
            version="1",
            header_comment=f"# Tizbek web app messages ({lang}); see scripts/app_messages.py.",
            last_translator="Tizbek",
            language_team=lang,
            charset="utf-8",
            fuzzy=False,
        )
        for message in template:
            if not message.id:
                continue
            text = message.id if lang == "en" else old.get(str(message.id), "")
            catalog.add(message.id, text, message.locations, flags=message.flags)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, sort_output=False)
        missing = sum(1 for m in catalog if m.id and not m.string)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {missing} untranslated")


if __name__ == "__main__":
    main()
