"""The web app under ``/app/``: server-rendered pages for each audience, signing in the browser.

:func:`install` mounts the shell (sign-in, language, key, queue) and every
audience's router. An audience is a module here with a ``router`` and an
``audience`` (see :mod:`api.web.pages`); its templates live in
``api/templates/app/<role>/`` and its scripts in ``api/static/app/``. See
``docs/app.md``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from api.web import collector, inspector, recycler, shell, translations, transporter
from api.web.pages import RoleRequired, SignInRequired, signin_redirect

#: The audiences' modules, in navigation order.
AUDIENCES = (collector, transporter, recycler, inspector)


def install(app: FastAPI, *, demo_authority: Path | None = None) -> None:
    """Mount the app on ``app``; ``demo_authority`` (a key folder) enables the demo's binding."""
    app.state.demo_authority = demo_authority
    app.include_router(shell.router)
    if demo_authority is not None:
        app.include_router(shell.demo_router)
    for module in AUDIENCES:
        app.include_router(module.router)

    @app.exception_handler(SignInRequired)
    async def _sign_in(_: Request, exc: SignInRequired) -> Response:
        return signin_redirect(exc.path)

    @app.exception_handler(RoleRequired)
    async def _role(request: Request, exc: RoleRequired) -> Response:
        lang = translations.language(request)
        gettext = translations.gettext_for(lang)
        message = gettext("This page is for organisations with the role: %(role)s") % {
            "role": exc.role
        }
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
            f'<p role="alert">{message}</p><p><a href="/app/">Tizbek</a></p></html>',
            status_code=403,
        )
