"""Who is signed in to the web app, and the checks every form post passes.

A user signs in with an API token (``tizbek token create``). The session
cookie holds that token itself: ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page sends it) and ``Secure`` over
HTTPS. Every request looks the token up as the API does, so revoking the
token ends the session at once; the server keeps no session state.

The token only reads. Writes are events the browser signs with its own key and
sends to ``POST /v1/events``; the few form posts of the app itself (sign-in,
sign-out, the demo's key binding) must come from the app's own origin
(``Origin`` or ``Sec-Fetch-Site``), on top of the SameSite cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.app_types import Services
from api.problems import ApiError
from ledger.storage.tokens import Principal, find_token

COOKIE = "tizbek_session"
#: How long a phone stays signed in, in seconds (the token may be revoked sooner).
MAX_AGE = 30 * 24 * 3600


@dataclass(frozen=True)
class User:
    """A signed-in principal and what the registry says of its organisation."""

    principal: Principal
    name: str
    roles: tuple[str, ...]
    authority: bool

    @property
    def org(self) -> str:
        """The organisation the user acts for."""
        return self.principal.org

    def has(self, role: str) -> bool:
        """Whether the organisation has ``role`` (an inspector token counts as inspector)."""
        return role in self.roles


def current_user(request: Request, svc: Services) -> User | None:
    """The signed-in user, or None (no cookie, or a token that is unknown or revoked)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = find_token(svc.reader.engine, token)
    if found is None:
        return None
    genesis = svc.reader.genesis()
    if found.org == genesis.authority_id:
        return User(found, genesis.authority_name, ("inspector",), authority=True)
    doc: dict[str, Any] = svc.reader.doc("org", found.org) or {}
    roles = tuple(doc.get("roles", ()))
    if found.inspector and "inspector" not in roles:
        roles += ("inspector",)
    return User(found, str(doc.get("name", found.org)), roles, authority=False)


def sign_in(response: Response, request: Request, token: str) -> None:
    """Keep ``token`` in the session cookie."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def sign_out(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def same_origin(request: Request) -> None:
    """Refuse a state-changing request another site's page made (403, ``cross_origin``)."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if site is not None and site not in ("same-origin", "none"):
        raise ApiError(403, "cross_origin", "Forbidden", "this form posts only from the app itself")
    if origin is not None and origin != own:
        raise ApiError(403, "cross_origin", "Forbidden", "this form posts only from the app itself")
    if site is None and origin is None:
        raise ApiError(
            403, "cross_origin", "Forbidden", "the request does not say where it comes from"
        )
