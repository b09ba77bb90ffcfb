"""The ``tizbek`` command line."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import click

from ledger.bundle import verify_bundle
from ledger.canonical import parse_json
from ledger.cli.findings import findings_cmd
from ledger.cli.keys import key_group
from ledger.cli.labels import labels
from ledger.cli.reports import report_group
from ledger.cli.stats import stats_cmd
from ledger.cli.support import EXIT_BAD_INPUT, EXIT_FAILED, engine_at, fail, reporting
from ledger.demo import AUTHORITY_ID, DEMO_USERS, build_demo_log, demo_lot
from ledger.errors import TizbekError
from ledger.keys import SigningKey
from ledger.note import VerifierKey


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
        fail(exc.message, EXIT_BAD_INPUT)
    click.echo(f"key_id: {key.key_id}")
    click.echo(f"public_key: {key.public.base64}")


@main.command()
@click.argument("bundle", type=click.Path(path_type=Path), required=False)
@click.option("--log-key", default=None, help="The log verifier key you trust (name+hash+key).")
@click.option("--db", "db", default=None, help="Audit the log in this database URL instead.")
@click.option(
    "--from",
    "from_seq",
    default=0,
    type=click.IntRange(min=0),
    help="With --db: check signatures from this seq on.",
)
def verify(bundle: Path | None, log_key: str | None, db: str | None, from_seq: int) -> None:
    """Verify an offline audit bundle (no server, no database), or audit a database."""
    if db is not None:
        _audit(db, from_seq)
        return
    if bundle is None:
        fail("give a BUNDLE file or --db URL", EXIT_BAD_INPUT)
    try:
        raw = bundle.read_bytes()
    except OSError as exc:
        fail(f"cannot read {bundle}: {exc.strerror}", EXIT_BAD_INPUT)
    with reporting(str(bundle)):
        trusted = VerifierKey.parse(log_key) if log_key else None
        report = verify_bundle(parse_json(raw), log_key=trusted)
    click.echo(report.summary())


def _audit(url: str, from_seq: int) -> None:
    from ledger.storage.audit import audit_database

    with reporting(f"cannot audit {url}"), engine_at(url) as engine:
        report = audit_database(engine, from_seq=from_seq)
    for violation in report.violations:
        click.echo(f"VIOLATION: {violation.message}")
    if report.violations:
        fail(report.summary(), EXIT_FAILED)
    click.echo(report.summary())


@main.command()
@click.option("--origin", default=None, help="The log's origin (default: HOSTNAME/tizbek).")
@click.option("--authority-id", default="authority", show_default=True)
@click.option("--authority-name", default="Environmental authority", show_default=True)
def init(origin: str | None, authority_id: str, authority_name: str) -> None:
    """Create a new log in TIZBEK_DATABASE_URL with keys in TIZBEK_KEY_DIR (./keys)."""
    import socket

    from ledger.storage.create import create_log, key_dir
    from ledger.storage.engine import database_url

    name = origin or f"{socket.gethostname() or 'localhost'}/tizbek"
    with reporting("cannot create the log"):
        made = create_log(
            database_url(),
            keys=key_dir(),
            origin=name,
            authority_id=authority_id,
            authority_name=authority_name,
        )
    click.echo(f"origin: {made.origin}")
    click.echo(f"log verifier key: {made.log_key}")
    click.echo(f"authority key_id: {made.authority_key_id}")
    click.echo(f"keys written to {made.key_dir}/ (log.key, authority.key, mode 0600)")


@main.command()
def rebuild() -> None:
    """Drop and rebuild every projection in TIZBEK_DATABASE_URL by replaying the log."""
    from ledger.storage.engine import database_url
    from ledger.storage.rebuild import rebuild_projections

    with reporting("cannot rebuild"), engine_at(database_url()) as engine:
        count = rebuild_projections(engine)
    click.echo(f"rebuilt the projections from {count} entries")


@main.command(name="export")
@click.argument("file", type=click.Path(path_type=Path))
def export_cmd(file: Path) -> None:
    """Write the whole log in TIZBEK_DATABASE_URL to FILE as JSON Lines."""
    from ledger.storage.backup import export_file
    from ledger.storage.engine import database_url

    with reporting("cannot export"), engine_at(database_url()) as engine:
        count, left_out = export_file(engine, file)
    click.echo(f"exported {count} entries to {file}")
    if left_out:
        click.echo(
            f"left out the {left_out} latest entries: no signed checkpoint covers them yet "
            "(the server signs one within its checkpoint interval)"
        )


@main.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
def import_cmd(file: Path) -> None:
    """Verify FILE (a JSON Lines export) and load it into the empty TIZBEK_DATABASE_URL."""
    from ledger.storage import migrate
    from ledger.storage.backup import import_lines
    from ledger.storage.engine import database_url

    url = database_url()
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}", EXIT_BAD_INPUT)
    with reporting("cannot import"), engine_at(url) as engine:
        migrate.upgrade(url)
        checkpoint = import_lines(engine, lines)
    click.echo(f"imported {checkpoint.size} entries; root {checkpoint.root.hex()}")


@main.group()
def token() -> None:
    """Create and revoke API tokens (they authorise reading, never writing)."""


@token.command(name="create")
@click.option("--org", required=True, help="The organisation the token reads for.")
@click.option(
    "--role", type=click.Choice(["member", "inspector"]), default="member", show_default=True
)
@click.option("--label", required=True, help="Who or what holds the token.")
def token_create(org: str, role: str, label: str) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from ledger.storage.engine import database_url
    from ledger.storage.tokens import create_token

    url = database_url()
    with reporting(f"cannot create a token in {url}"), engine_at(url) as engine:
        ident, secret = create_token(engine, org=org, role=role, label=label)
    click.echo(f"token id {ident} ({role} of {org}); the token, shown only now:")
    click.echo(secret)


@token.command(name="revoke")
@click.argument("ident")
def token_revoke(ident: str) -> None:
    """Revoke the token with id IDENT."""
    from ledger.storage.engine import database_url
    from ledger.storage.tokens import revoke_token

    url = database_url()
    with reporting(f"cannot revoke token {ident}"), engine_at(url) as engine:
        revoke_token(engine, ident)
    click.echo(f"revoked token {ident}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; with more than one, this process sequences for them all.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log a line per request (costs throughput under load).",
)
@click.option(
    "--checkpoint-interval",
    type=click.FloatRange(0, 86_400),
    default=None,
    help="Seconds between signed checkpoints (default: TIZBEK_CHECKPOINT_INTERVAL, "
    "else 0: one with every batch of appends).",
)
def serve(
    host: str, port: int, workers: int, access_log: bool, checkpoint_interval: float | None
) -> None:
    """Serve the log in TIZBEK_DATABASE_URL over HTTP (API documentation at /docs)."""
    import uvicorn

    from ledger.storage.checkpointer import CHECKPOINT_INTERVAL_ENV, checkpoint_interval_from_env
    from ledger.storage.engine import database_url

    url = database_url()
    if checkpoint_interval is not None:
        os.environ[CHECKPOINT_INTERVAL_ENV] = repr(checkpoint_interval)
    with reporting("cannot serve"):
        checkpoint_interval_from_env()  # a bad setting stops here, not in every worker
    run = functools.partial(
        uvicorn.run,
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
    )
    if workers == 1:
        run()  # the worker sequences for itself
        return
    from api.app import SEQUENCER_ENV
    from ledger.storage.create import key_dir
    from ledger.storage.relay import serving_sequencer

    # One sequencer for all the workers, in this process (which otherwise only watches
    # over them): they hand it their submissions over a Unix socket.
    with reporting("cannot serve"), serving_sequencer(url, key_dir()) as socket:
        os.environ[SEQUENCER_ENV] = str(socket)
        run()


@main.command()
@click.option(
    "--out",
    default="tizbek-demo-bundle.json",
    type=click.Path(path_type=Path),
    help="Where to write the demo's audit bundle.",
)
@click.option(
    "--dir",
    "directory",
    default="tizbek-demo",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the demo's SQLite log and keys go (replaced on every run).",
)
@click.option("--lots", default=12, show_default=True, type=click.IntRange(1, 500))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--serve/--no-serve", default=True, help="Serve the demo log over HTTP.")
def demo(out: Path, directory: Path, lots: int, host: str, port: int, serve: bool) -> None:
    """Build a demo custody log on SQLite, write and verify its audit bundle, and serve it."""
    import shutil

    from ledger.storage import migrate
    from ledger.storage.backup import export_header, import_lines
    from ledger.storage.create import AUTHORITY_KEY_FILE, LOG_KEY_FILE
    from ledger.storage.tokens import create_token

    story = build_demo_log(lots=lots)
    bundle = story.log.bundle()
    out.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    report = verify_bundle(bundle)
    click.echo(f"wrote {out}: {story.log.size} entries, checkpoint:")
    click.echo(story.log.checkpoint())
    click.echo(report.summary())
    click.echo(f"check it yourself: tizbek verify {out} --log-key '{report.log_key}'")

    shutil.rmtree(directory / "keys", ignore_errors=True)
    (directory / "demo.db").unlink(missing_ok=True)
    (directory / "keys").mkdir(parents=True, mode=0o700)
    story.log.signer.key.save(directory / "keys" / LOG_KEY_FILE)
    story.authority.save(directory / "keys" / AUTHORITY_KEY_FILE)
    url = f"sqlite:///{(directory / 'demo.db').resolve()}"
    migrate.upgrade(url)
    with reporting("cannot store the demo log"), engine_at(url) as engine:
        import_lines(
            engine,
            [export_header(str(story.log.signer.verifier), [n for _, n in story.log.checkpoints])]
            + [e.data.decode("utf-8") for e in story.log.entries],
        )
        _, token = create_token(engine, org=AUTHORITY_ID, role="inspector", label="demo")
        members = {
            role: create_token(engine, org=org, role="member", label=f"demo {role}")[1]
            for role, org in DEMO_USERS.items()
        }
    base = f"http://{host}:{port}"
    click.echo(f"stored the demo log in {url}")
    click.echo(f"inspector token: {token}")
    click.echo(f"API documentation: {base}/docs")
    click.echo(f"scan page of the first lot's label: {base}/l/{demo_lot(0)}")
    click.echo(f"web app: {base}/app/ (sign in with a link; each browser makes its own key)")
    for role, secret in members.items():
        click.echo(f"  {role} ({DEMO_USERS[role]}): {base}/app/signin#token={secret}")
    click.echo(f"  inspector ({AUTHORITY_ID}): {base}/app/signin#token={token}")
    if serve:
        import uvicorn

        from api.app import create_app
        from ledger.labels.links import Links

        links = Links(f"http://{host}:{port}")
        app = create_app(url, directory / "keys", links=links, demo=True)
        uvicorn.run(app, host=host, port=port, log_level="info")


main.add_command(labels)
main.add_command(findings_cmd)
main.add_command(key_group)
main.add_command(stats_cmd)
main.add_command(report_group)
