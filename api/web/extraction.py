"""Finding the web app's messages in its Python modules and templates, with Babel.

``scripts/app_messages.py`` brings the catalogues up to date from this;
``tests/web/test_catalogues.py`` fails while any message is missing or
untranslated in a catalogue.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir

API = Path(__file__).parents[1]
#: Where messages are, and how Babel reads them: ``_``, ``gettext`` and ``N_`` in the
#: app's modules, ``_()`` and ``{% trans %}`` in its templates.
METHODS = [
    ("web/**.py", "python"),
    ("templates/app/**.html", "jinja2.ext:babel_extract"),
]
OPTIONS = {"templates/app/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract() -> Catalog:
    """Every message the app shows, with where it is used."""
    catalog = Catalog(project="Tizbek web app", charset="utf-8")
    for filename, lineno, message, _comments, context in extract_from_dir(
        API, METHODS, OPTIONS, comment_tags=()
    ):
        catalog.add(message, None, [(f"api/{filename}", lineno)], context=context)
    return catalog
