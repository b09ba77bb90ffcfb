"""Who is reading: a bearer token names an organisation (member) or an inspector.

No token: only the public endpoints. An unknown or revoked token is refused
with 401, never treated as no token, so a client learns its token is dead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.deps import services
from api.problems import ApiError
from ledger.storage.tokens import Principal, find_token


async def principal(request: Request) -> Principal | None:
    """The token's principal, None without a token; 401 for a bad one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid_token", "Unauthorized", "use Authorization: Bearer TOKEN")
    found = find_token((await services(request)).reader.engine, token.strip())
    if found is None:
        raise ApiError(401, "invalid_token", "Unauthorized", "the token is unknown or revoked")
    return found


async def reader(request: Request) -> Principal:
    """A principal is required."""
    found = await principal(request)
    if found is None:
        raise ApiError(
            401,
            "token_required",
            "Unauthorized",
            "this endpoint needs a bearer token (tizbek token create)",
        )
    return found


async def inspector(who: Annotated[Principal, Depends(reader)]) -> Principal:
    """An inspector's token is required."""
    if not who.inspector:
        raise ApiError(403, "inspectors_only", "Forbidden", "this endpoint is for inspectors")
    return who
