"""The ``tizbek`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click

from ledger.bundle import verify_bundle
from ledger.canonical import parse_json
from ledger.demo import build_demo_log
from ledger.errors import TizbekError, VerificationError
from ledger.keys import SigningKey
from ledger.note import VerifierKey

#: Exit codes: verification found a fault; the input could not be used.
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"tizbek: {message}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(package_name="tizbek")
def main() -> None:
    """Tizbek: a verifiable chain-of-custody ledger for electronic waste."""


@main.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Key file.")
def keygen(out: Path) -> None:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600); print its key_id."""
    key = SigningKey.generate()
    try:
        key.save(out)
    except TizbekError as exc:
        _fail(exc.message, EXIT_BAD_INPUT)
    click.echo(f"key_id: {key.key_id}")
    click.echo(f"public_key: {key.public.base64}")


@main.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--log-key", default=None, help="The log verifier key you trust (name+hash+key).")
def verify(bundle: Path, log_key: str | None) -> None:
    """Verify an offline audit bundle: no server, no database."""
    try:
        raw = bundle.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {bundle}: {exc.strerror}", EXIT_BAD_INPUT)
    try:
        trusted = VerifierKey.parse(log_key) if log_key else None
        report = verify_bundle(parse_json(raw), log_key=trusted)
    except VerificationError as exc:
        _fail(f"FAILED: {exc.message}", EXIT_FAILED)
    except TizbekError as exc:
        _fail(f"{bundle}: {exc.message}", EXIT_BAD_INPUT)
    click.echo(report.summary())


@main.command()
@click.option(
    "--out",
    default="tizbek-demo-bundle.json",
    type=click.Path(path_type=Path),
    help="Where to write the demo's audit bundle.",
)
def demo(out: Path) -> None:
    """Build a demo custody log in memory, write its audit bundle and verify it."""
    story = build_demo_log()
    bundle = story.log.bundle()
    out.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    report = verify_bundle(bundle)
    click.echo(f"wrote {out}: {story.log.size} entries, checkpoint:")
    click.echo(story.log.checkpoint())
    click.echo(report.summary())
    click.echo(f"check it yourself: tizbek verify {out} --log-key '{report.log_key}'")
