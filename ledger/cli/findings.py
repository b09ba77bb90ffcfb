"""``tizbek findings``: what does not add up in the custody record, with its entries."""

from __future__ import annotations

import json

import click

from ledger.cli.support import EXIT_BAD_INPUT, engine_at, fail, reporting
from ledger.insight.limits import KINDS


@click.command(name="findings")
@click.option("--at", default=None, help="As of this time (ISO 8601 UTC; default now).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only these kinds (repeat the option).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def findings_cmd(at: str | None, kinds: tuple[str, ...], as_json: bool) -> None:
    """List what does not add up in TIZBEK_DATABASE_URL, with the entries behind each finding."""
    from ledger.events import check_time, utc_now
    from ledger.insight.limits import Limits
    from ledger.storage.engine import database_url
    from ledger.storage.findings import findings

    with reporting("cannot list findings"):
        if at is not None:
            check_time(at, "--at")
    try:
        limits = Limits.from_env()
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    chosen = kinds or KINDS
    with reporting("cannot list findings"), engine_at(database_url()) as engine:
        found = findings(engine, at=at or utc_now(), limits=limits, kinds=chosen)
    for finding in found:
        if as_json:
            click.echo(json.dumps(finding.as_json(), ensure_ascii=False, sort_keys=True))
        else:
            seqs = ", ".join(str(s) for s in finding.seqs)
            click.echo(f"{finding.kind}: {finding.detail} (entries {seqs})")
    click.echo(f"{len(found)} finding(s)", err=True)
