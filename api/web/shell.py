"""The app's shell: home, sign-in and sign-out, the language switch, the browser's key, the queue.

``/`` leads to ``/app/``. The key page makes the browser's signing key (its
script does; the server never sees a private key) and shows its key id and
public key for binding. In a demo (``tizbek demo``) it can also have the key
bound at once, by the demo authority: :data:`demo_router`, which only the demo
mounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from api.problems import ApiError
from api.registry import key_binding
from api.web import translations
from api.web.codelists import ROLE_TITLES
from api.web.pages import PREFIX, Ctx, need_user, page, safe_next
from api.web.session import same_origin, sign_in, sign_out
from ledger.errors import KeyFormatError
from ledger.events import make_event, sign_event
from ledger.keys import PublicKey, SigningKey
from ledger.storage.create import AUTHORITY_KEY_FILE
from ledger.storage.tokens import find_token

router = APIRouter(include_in_schema=False)
demo_router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """The app is what a browser at the server's root wants."""
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get(PREFIX, response_class=RedirectResponse)
async def app_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get(f"{PREFIX}/", response_class=HTMLResponse)
async def home(ctx: Ctx) -> Response:
    """What the signed-in user can do here, and whether the browser's key is ready."""
    user = need_user(ctx)
    return page(ctx, "home.html", org=user.org, role_titles=ROLE_TITLES)


@router.get(f"{PREFIX}/signin", response_class=HTMLResponse)
async def signin_form(ctx: Ctx, next: str | None = None) -> Response:
    """The sign-in form: paste the token an administrator gave you."""
    return page(ctx, "signin.html", next=safe_next(next), error=None)


@router.post(f"{PREFIX}/signin", response_class=HTMLResponse)
async def signin(
    ctx: Ctx,
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Check the token and keep it in the session cookie."""
    same_origin(request)
    token = token.strip()
    if find_token(ctx.svc.reader.engine, token) is None:
        gettext = translations.gettext_for(ctx.lang)
        error = gettext("This token is unknown or revoked.")
        return page(ctx, "signin.html", status=401, next=safe_next(next), error=error)
    answer = RedirectResponse(safe_next(next), status_code=303)
    sign_in(answer, request, token)
    return answer


@router.post(f"{PREFIX}/signout")
async def signout(request: Request) -> RedirectResponse:
    """Forget the session (the token itself stays valid until revoked)."""
    same_origin(request)
    answer = RedirectResponse(f"{PREFIX}/signin", status_code=303)
    sign_out(answer)
    return answer


@router.get(f"{PREFIX}/lang/{{code}}")
async def switch_language(code: str, next: str | None = None) -> RedirectResponse:
    """Remember the chosen language and go back."""
    if code not in translations.LANGUAGES:
        raise ApiError(404, "not_found", "Not found", f"no language {code}")
    answer = RedirectResponse(safe_next(next), status_code=303)
    answer.set_cookie(
        translations.LANG_COOKIE, code, max_age=365 * 24 * 3600, path="/", samesite="lax"
    )
    return answer


@router.get(f"{PREFIX}/key", response_class=HTMLResponse)
async def key_page(ctx: Ctx) -> Response:
    """The browser's signing key: made here, shown for binding, its binding checked."""
    user = need_user(ctx)
    demo = getattr(ctx.request.app.state, "demo_authority", None) is not None
    return page(ctx, "key.html", org=user.org, demo=demo and not user.authority)


@router.get(f"{PREFIX}/queue", response_class=HTMLResponse)
async def queue_page(ctx: Ctx) -> Response:
    """The events this browser signed and what became of them."""
    need_user(ctx)
    return page(ctx, "queue.html")


class KeyToBind(BaseModel):
    """The public half of the browser's key, and what to call it."""

    public_key: str
    label: str = "web app"


@demo_router.post(f"{PREFIX}/key/demo-bind")
async def demo_bind(ctx: Ctx, request: Request, body: KeyToBind) -> dict[str, Any]:
    """Demo only: the demo authority binds the browser's key to the signed-in organisation."""
    same_origin(request)
    user = need_user(ctx)
    if user.authority:
        raise ApiError(
            403, "authority_keys", "Forbidden", "the authority's keys are named in the genesis"
        )
    try:
        public = PublicKey.from_base64(body.public_key)
    except KeyFormatError as exc:
        raise ApiError(400, "invalid_request", "Invalid request", exc.message) from None
    known = key_binding(ctx.svc.reader, public.key_id)
    if known is not None:
        return {"key_id": public.key_id, "org": known["org"], "seq": known["bound_seq"]}
    folder: Path = request.app.state.demo_authority
    authority = SigningKey.load(folder / AUTHORITY_KEY_FILE)
    genesis = ctx.svc.reader.genesis()
    event = make_event(
        "key.bound",
        log=genesis.origin,
        actor=genesis.authority_id,
        key=authority,
        org=user.org,
        public_key=public.base64,
        key_id=public.key_id,
        label=body.label[:100] or "web app",
    )
    appended = await ctx.svc.committer.append(sign_event(authority, event))
    return {"key_id": public.key_id, "org": user.org, "seq": appended.entry.seq}
