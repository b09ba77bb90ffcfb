"""Rendering the app's pages: one layout, the navigation of each audience, the language.

Each audience (collector, and later transporter, recycler, inspector) is a
module with a ``router`` and an :class:`Audience` naming the role it serves and
its navigation. :func:`page` renders a template under ``api/templates/app/``
in the request's language with what the layout needs: the user, the log's
origin and the signer's actor id for the browser's signing script, the
navigation of the user's roles, the language switcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.app_types import Services
from api.deps import services
from api.web import translations
from api.web.session import User, current_user

PREFIX = "/app"


@dataclass(frozen=True)
class Audience:
    """Who a group of pages is for: the role that sees them and their navigation links."""

    role: str
    title: str
    links: tuple[tuple[str, str], ...]


#: Every audience's pages, in navigation order; audience modules register here.
AUDIENCES: list[Audience] = []


def register(audience: Audience) -> Audience:
    """Add ``audience`` to the navigation."""
    AUDIENCES.append(audience)
    return audience


@dataclass
class Context:
    """What a page handler has to hand: the request, the services, the user and language."""

    request: Request
    svc: Services
    user: User | None
    lang: str


async def context(request: Request, svc: Annotated[Services, Depends(services)]) -> Context:
    """The page context of ``request``."""
    return Context(request, svc, current_user(request, svc), translations.language(request))


Ctx = Annotated[Context, Depends(context)]


class SignInRequired(Exception):
    """A page that needs a signed-in user was asked for without one."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class RoleRequired(Exception):
    """A page for one audience was asked for by a user without its role."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


def need_user(ctx: Context, role: str | None = None) -> User:
    """The signed-in user (with ``role`` if named); else the sign-in page or a refusal."""
    if ctx.user is None:
        raise SignInRequired(ctx.request.url.path)
    if role is not None and not ctx.user.has(role):
        raise RoleRequired(role)
    return ctx.user


def signin_redirect(path: str) -> RedirectResponse:
    """Send the browser to the sign-in page, then back to ``path``."""
    return RedirectResponse(f"{PREFIX}/signin?next={quote(path)}", status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after signing in or switching language: a path of the app, never elsewhere."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//"):
        return target
    return f"{PREFIX}/"


def page(ctx: Context, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """Render ``app/<template>`` for ``ctx``."""
    env = translations.environment(ctx.lang)
    user = ctx.user
    here = ctx.request.url.path
    if ctx.request.url.query:
        query = {k: v for k, v in ctx.request.query_params.multi_items() if k != "lang"}
        if query:
            here += "?" + urlencode(query)
    nav = [a for a in AUDIENCES if user is not None and user.has(a.role)]
    genesis = ctx.svc.reader.genesis()
    html = env.get_template(f"app/{template}").render(
        lang=ctx.lang,
        languages=[(code, translations.NAMES[code]) for code in translations.LANGUAGES],
        switch_url=lambda code: f"{PREFIX}/lang/{code}?{urlencode({'next': here})}",
        user=user,
        nav=nav,
        here=ctx.request.url.path,
        origin=genesis.origin,
        authority_id=genesis.authority_id,
        **values,
    )
    return HTMLResponse(html, status_code=status)
