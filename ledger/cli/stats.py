"""``tizbek stats``: documented kg by month, category and region, rates and EPR credit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from ledger.cli.support import EXIT_BAD_INPUT, engine_at, fail, reporting


def _day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        fail(f"{option} must be a day, YYYY-MM-DD (got {value!r})", EXIT_BAD_INPUT)


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.1f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


@click.command(name="stats")
@click.option("--from", "start", default=None, help="First reporting day (YYYY-MM-DD, Almaty).")
@click.option("--to", "end", default=None, help="Last reporting day, included.")
@click.option("--region", default=None, help="Only this region.")
@click.option("--category", type=click.IntRange(1, 6), default=None, help="Only this category.")
@click.option(
    "--size", type=click.IntRange(min=1), default=None, help="As of this tree size (a checkpoint)."
)
@click.option(
    "--generated",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON of e-waste generated, kg per region per year (default TIZBEK_GENERATED_ESTIMATES).",
)
@click.option("--json", "as_json", is_flag=True, help="The whole report as one JSON object.")
def stats_cmd(
    start: str | None,
    end: str | None,
    region: str | None,
    category: int | None,
    size: int | None,
    generated: str | None,
    as_json: bool,
) -> None:
    """Documented kg collected, received and processed in TIZBEK_DATABASE_URL, by month,
    category and region; recovered material; Annex V rates; EPR credit per producer."""
    from ledger.insight.estimates import load_estimates
    from ledger.storage.engine import database_url
    from ledger.storage.stats import Scope, statistics

    scope = Scope(_day(start, "--from"), _day(end, "--to"), region, category, size)
    try:
        estimates = load_estimates(generated)
    except ValueError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    with reporting("cannot compute statistics"), engine_at(database_url()) as engine:
        report = statistics(engine, scope, generated=estimates)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, sort_keys=True))
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    click.echo(f"Documented kg (entries below {report['scope']['size']}; days in {report['zone']})")
    click.echo(
        f"{'month':8} {'cat':>3} {'region':24} {'collected':>12} {'received':>12} {'processed':>12}"
    )
    for row in report["months"]:
        figures = [
            _kg(row[m]["grams"]) if m in row else "-"
            for m in ("collected", "received", "processed")
        ]
        click.echo(
            f"{row['month']:8} {row['category']:>3} {(row['region'] or '-')[:24]:24} "
            + " ".join(f"{f:>12}" for f in figures)
        )
    if report["rates"]:
        click.echo("\nRates against WEEE Annex V (treated input; reuse+recycling, recovery)")
        for r in report["rates"]:
            met = {True: "meets", False: "BELOW", None: "-"}[r["meets_targets"]]
            click.echo(
                f"category {r['category']}: {_kg(r['processed_g'])} kg treated, "
                f"reuse+recycling {_percent(r['reuse_recycling_percent'])} "
                f"(target {r['target_reuse_recycling_percent']} %), "
                f"recovery {_percent(r['recovery_percent'])} "
                f"(target {_percent(r['target_recovery_percent'])}): {met}"
            )
    if report["epr"]:
        click.echo("\nEPR credit per producer")
        for p in report["epr"]:
            click.echo(
                f"{p['producer']}: {_kg(p['collected_g'])} kg collected in {p['lots']} lots, "
                f"{_kg(p['credited_g'])} kg treated"
            )
    for c in report["collection_rate"]:
        click.echo(
            f"collection rate {c['region']} {c['year']}: {_kg(c['collected_g'])} of "
            f"{c['generated_kg']:,} kg generated = {_percent(c['collection_percent'])}"
        )
