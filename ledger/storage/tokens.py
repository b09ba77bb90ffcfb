"""API bearer tokens: created once, stored as a hash, revocable.

A token is ``tzb_`` followed by 32 random bytes in URL-safe base64. The
database keeps its SHA-256 and a short id (the first 16 hex digits of that
hash) by which an operator revokes it. Roles: ``member`` reads what its
organisation is or was party to; ``inspector`` reads everything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from ledger.errors import TizbekError
from ledger.events import utc_now
from ledger.storage.reader import LogReader
from ledger.storage.tables import TOKENS

ROLES = ("member", "inspector")
PREFIX = "tzb_"


class TokenError(TizbekError):
    """A token cannot be created, found or revoked as asked."""

    code = "token"


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for."""

    token_id: str
    org: str
    role: str

    @property
    def inspector(self) -> bool:
        """Whether the token reads everything."""
        return self.role == "inspector"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def create_token(engine: Engine, *, org: str, role: str, label: str) -> tuple[str, str]:
    """Create a token for ``org``; return its id and the token (shown only now)."""
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}")
    reader = LogReader(engine)
    authority = reader.genesis().authority_id
    doc = reader.doc("org", org)
    if org != authority:
        if doc is None or doc["status"] != "active":
            raise TokenError(f"{org} is not a registered organisation")
        if role == "inspector" and "inspector" not in doc["roles"]:
            raise TokenError(f"{org} does not have the inspector role")
    token = PREFIX + secrets.token_urlsafe(32)
    digest = _hash(token)
    ident = digest.hex()[:16]
    with engine.begin() as conn:
        conn.execute(
            insert(TOKENS).values(
                id=ident,
                token_hash=digest,
                org=org,
                role=role,
                label=label,
                created_at=utc_now(),
                revoked_at=None,
            )
        )
    return ident, token


def revoke_token(engine: Engine, ident: str) -> None:
    """Revoke the token with id ``ident``."""
    with engine.begin() as conn:
        done = conn.execute(
            update(TOKENS)
            .where(TOKENS.c.id == ident, TOKENS.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
    if done.rowcount != 1:
        raise TokenError(f"no live token has the id {ident}")


def find_token(engine: Engine, token: str) -> Principal | None:
    """Who ``token`` speaks for, or None if it is unknown or revoked."""
    if not token.startswith(PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(TOKENS.c.id, TOKENS.c.org, TOKENS.c.role, TOKENS.c.revoked_at).where(
                TOKENS.c.token_hash == _hash(token)
            )
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.org, row.role)
