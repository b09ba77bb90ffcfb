"""``tizbek report``: signed monthly reports of a facility or a region, and their check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ledger.cli.support import EXIT_BAD_INPUT, EXIT_FAILED, engine_at, fail, reporting


@click.group(name="report")
def report_group() -> None:
    """Signed monthly reports an inspector can hand on; anyone can check them."""


def _write(body: dict[str, Any], out: Path) -> None:
    from ledger.insight.reports import report_pdf, sign_report
    from ledger.keys import SigningKey
    from ledger.note import NoteSigner
    from ledger.storage.create import LOG_KEY_FILE, key_dir

    if out.suffix not in (".json", ".pdf"):
        fail(f"{out}: the report is written as .json or .pdf", EXIT_BAD_INPUT)
    with reporting("cannot sign the report"):
        key = SigningKey.load(key_dir() / LOG_KEY_FILE)
        origin = str(body["checkpoint"]["note"]).split("\n", 1)[0]
        report = sign_report(body, NoteSigner(origin, key))
        if out.suffix == ".pdf":
            out.write_bytes(report_pdf(report))
        else:
            out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", "utf-8")
    figures = ", ".join(f"{k} {v}" for k, v in report["figures"].items())
    click.echo(f"wrote {out} at checkpoint {report['checkpoint']['size']}: {figures}")


def _month(month: str) -> str:
    from ledger.storage.reports import period_of

    try:
        period_of(month)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    return month


@report_group.command(name="facility")
@click.argument("org")
@click.option("--month", required=True, help="The reporting month, YYYY-MM (Almaty time).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_facility(org: str, month: str, out: Path) -> None:
    """A facility's month in TIZBEK_DATABASE_URL, signed with the log's key."""
    from ledger.storage.engine import database_url
    from ledger.storage.reports import facility_report

    _month(month)
    with reporting("cannot compute the report"), engine_at(database_url()) as engine:
        body = facility_report(engine, org, month)
    _write(body, out)


@report_group.command(name="region")
@click.argument("region")
@click.option("--month", required=True, help="The reporting month, YYYY-MM (Almaty time).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report_region(region: str, month: str, out: Path) -> None:
    """A region's month in TIZBEK_DATABASE_URL, signed with the log's key."""
    from ledger.storage.engine import database_url
    from ledger.storage.reports import region_report

    _month(month)
    with reporting("cannot compute the report"), engine_at(database_url()) as engine:
        body = region_report(engine, region, month)
    _write(body, out)


@report_group.command(name="check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--log-key", default=None, help="The log's verifier key, from a source you trust.")
@click.option("--db", default=None, help="Also derive every figure again from this log.")
def report_check(file: Path, log_key: str | None, db: str | None) -> None:
    """Check a report's signature and checkpoint, and with --db its figures."""
    from ledger.canonical import parse_json
    from ledger.insight.reports import check_report
    from ledger.note import VerifierKey
    from ledger.storage.reports import rederive

    with reporting("cannot check the report"):
        report = parse_json(file.read_bytes())
        if not isinstance(report, dict):
            fail(f"{file} is not a report", EXIT_BAD_INPUT)
        key = check_report(report, VerifierKey.parse(log_key) if log_key else None)
    click.echo(f"signature and checkpoint verify with {key}")
    if log_key is None:
        click.echo("compare that key with the log's, from a source you trust")
    if db is not None:
        with reporting("cannot derive the report again"), engine_at(db) as engine:
            differ = rederive(engine, report)
        if differ:
            fail(f"FAILED: the log gives other {', '.join(differ)}", EXIT_FAILED)
        click.echo(
            f"every figure derives again from the log at size {report['checkpoint']['size']}"
        )
