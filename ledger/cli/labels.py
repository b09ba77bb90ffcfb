"""``tizbek labels``: issue blocks of lot labels and render them for printing.

The commands work on the log in ``TIZBEK_DATABASE_URL`` with the keys in
``TIZBEK_KEY_DIR``; labels carry URLs under ``TIZBEK_BASE_URL`` (a GS1
Digital Link when ``TIZBEK_GS1_PREFIX`` is set).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Engine

from ledger import i18n
from ledger.cli.support import EXIT_BAD_INPUT, engine_at, fail, reporting
from ledger.errors import LotIdError
from ledger.labels import ids
from ledger.labels.render import MAX_SHEET

LANG = click.option(
    "--lang",
    type=click.Choice(list(i18n.LANGUAGES)),
    default="ru",
    show_default=True,
    help="Language of the captions and category names.",
)


@click.group()
def labels() -> None:
    """Issue lot labels to an organisation and render them (PNG, SVG, PDF sheets)."""


def _issue(engine: Engine, org: str, count: int) -> list[str]:
    from ledger.keys import SigningKey
    from ledger.storage.create import AUTHORITY_KEY_FILE, LOG_KEY_FILE, key_dir
    from ledger.storage.labels import issue_labels
    from ledger.storage.reader import LogReader
    from ledger.storage.sqllog import SqlLog

    keys = key_dir()
    authority = SigningKey.load(keys / AUTHORITY_KEY_FILE)
    log = SqlLog.open(engine, keys / LOG_KEY_FILE)
    try:
        return issue_labels(log, LogReader(engine), authority, org=org, count=count)
    finally:
        log.close()


@labels.command(name="issue")
@click.option("--org", required=True, help="The organisation that will stick the labels on.")
@click.option("--count", required=True, type=click.IntRange(1, ids.MAX_ISSUE))
def issue(org: str, count: int) -> None:
    """Issue COUNT fresh lot ids to ORG (signed by the authority); print them, one per line."""
    from ledger.storage.engine import database_url

    with reporting(f"cannot issue labels to {org}"), engine_at(database_url()) as engine:
        issued = _issue(engine, org, count)
    click.echo(f"issued {count} labels to {org}: {issued[0]} … {issued[-1]}", err=True)
    for lot in issued:
        click.echo(lot)


def _canonical(lots: tuple[str, ...]) -> list[str]:
    try:
        return [ids.normalise(lot) for lot in lots]
    except LotIdError as exc:
        fail(exc.message, EXIT_BAD_INPUT)


@labels.command(name="render")
@click.argument("lot")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="FILE.png or FILE.svg")
@LANG
@click.option("--dpi", default=300, show_default=True, type=click.IntRange(72, 1200))
def render(lot: str, out: Path, lang: str, dpi: int) -> None:
    """Render the label of LOT (an issued id or a registered lot) as PNG or SVG."""
    from ledger.labels.content import label_for
    from ledger.labels.links import Links
    from ledger.labels.render import label_png, label_svg
    from ledger.storage.engine import database_url
    from ledger.storage.reader import LogReader

    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        fail(f"--out must end in .png or .svg, not {out.name!r}", EXIT_BAD_INPUT)
    (canonical,) = _canonical((lot,))
    with reporting(f"cannot render {lot}"), engine_at(database_url()) as engine:
        label = label_for(LogReader(engine), Links.from_env(), canonical, lang)
        out.write_bytes(label_png(label, dpi=dpi) if suffix == ".png" else label_svg(label))
    click.echo(f"wrote the label of {canonical} ({label.url}) to {out}")


@labels.command(name="sheet")
@click.argument("lots", nargs=-1)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="FILE.pdf")
@click.option("--org", default=None, help="Issue fresh labels to this organisation ...")
@click.option("--count", default=None, type=click.IntRange(1, MAX_SHEET), help="... this many.")
@click.option("--layout", default="3x8", show_default=True, help="3x8, 2x7 or COLSxROWS on A4.")
@LANG
def sheet(
    lots: tuple[str, ...], out: Path, org: str | None, count: int | None, layout: str, lang: str
) -> None:
    """Render an A4 PDF sheet of labels: of LOTS, or of COUNT fresh ids issued to ORG."""
    from ledger.labels.content import label_for
    from ledger.labels.links import Links
    from ledger.labels.render import grid, sheet_pdf
    from ledger.storage.engine import database_url
    from ledger.storage.reader import LogReader

    if out.suffix.lower() != ".pdf":
        fail(f"--out must end in .pdf, not {out.name!r}", EXIT_BAD_INPUT)
    if bool(lots) == (org is not None and count is not None) or (org is None) != (count is None):
        fail("name the LOTS, or give both --org and --count (not both ways)", EXIT_BAD_INPUT)
    if len(lots) > MAX_SHEET:
        fail(f"at most {MAX_SHEET} labels per sheet command", EXIT_BAD_INPUT)
    try:
        cells = grid(layout)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    chosen = _canonical(lots)
    with reporting("cannot render the sheet"), engine_at(database_url()) as engine:
        if org is not None and count is not None:
            chosen = _issue(engine, org, count)
        reader, links = LogReader(engine), Links.from_env()
        out.write_bytes(
            sheet_pdf([label_for(reader, links, lot, lang) for lot in chosen], layout=cells)
        )
    pages = -(-len(chosen) // (cells.cols * cells.rows))
    click.echo(f"wrote {len(chosen)} labels on {pages} page(s) to {out}")
