"""``tizbek key``: bind a device's public key to an organisation, or revoke a key.

A browser or device makes its own Ed25519 key and shows its public key; the
private key never leaves it. ``tizbek key bind`` appends the ``key.bound``
event (protocol §6, §11.3) signed with the authority key in
``TIZBEK_KEY_DIR``, to the log in ``TIZBEK_DATABASE_URL``; from that entry on,
the log accepts the key's signatures for the organisation.
"""

from __future__ import annotations

from typing import Any

import click

from ledger.cli.support import reporting
from ledger.keys import PublicKey


@click.group(name="key")
def key_group() -> None:
    """Bind device keys to organisations, and revoke them (signed by the authority)."""


def _append(etype: str, **fields: Any) -> int:
    from ledger.events import make_event, sign_event
    from ledger.keys import SigningKey
    from ledger.storage.create import AUTHORITY_KEY_FILE, LOG_KEY_FILE, key_dir
    from ledger.storage.engine import database_url, make_engine
    from ledger.storage.reader import LogReader
    from ledger.storage.sqllog import SqlLog

    keys = key_dir()
    authority = SigningKey.load(keys / AUTHORITY_KEY_FILE)
    engine = make_engine(database_url())
    try:
        genesis = LogReader(engine).genesis()
        event = make_event(
            etype, log=genesis.origin, actor=genesis.authority_id, key=authority, **fields
        )
        with SqlLog.open(engine, keys / LOG_KEY_FILE) as log:
            entry, _ = log.append(sign_event(authority, event))
        return entry.seq
    finally:
        engine.dispose()


@key_group.command(name="bind")
@click.option("--org", required=True, help="The organisation the key will sign for.")
@click.option("--public-key", "public_key", required=True, help="Base64 of the 32-byte key.")
@click.option("--label", required=True, help="What holds the key, e.g. 'weighbridge PC'.")
@click.option("--admin", is_flag=True, help="Let the key bind and revoke ORG's other keys.")
def bind(org: str, public_key: str, label: str, admin: bool) -> None:
    """Bind PUBLIC_KEY to ORG: a key.bound entry signed by the authority."""
    with reporting(f"cannot bind the key to {org}"):
        public = PublicKey.from_base64(public_key.strip())
        seq = _append(
            "key.bound",
            org=org,
            public_key=public.base64,
            key_id=public.key_id,
            label=label,
            admin=admin,
        )
    click.echo(f"bound key {public.key_id} to {org} in entry {seq}")


@key_group.command(name="revoke")
@click.argument("key_id")
@click.option("--reason", required=True, help="Why, e.g. 'phone lost'.")
def revoke(key_id: str, reason: str) -> None:
    """Revoke KEY_ID: it signs nothing from the key.revoked entry on."""
    with reporting(f"cannot revoke key {key_id}"):
        seq = _append("key.revoked", key_id=key_id, reason=reason)
    click.echo(f"revoked key {key_id} in entry {seq}")
