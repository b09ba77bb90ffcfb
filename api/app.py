"""The application: one log, its sequencer, and the routers of each audience.

``create_app`` serves the log in a database; ``app_from_env`` builds it from
``TIZBEK_DATABASE_URL`` and ``TIZBEK_KEY_DIR`` (for ``tizbek serve`` and its
workers). Submissions go through a :class:`~ledger.storage.sequencer.GroupCommitter`,
so concurrent requests share one durable commit and are answered after it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api import (
    epcis,
    exports,
    fastroutes,
    insight,
    labels,
    problems,
    public,
    readers,
    registry,
    reports,
    scan,
    submissions,
    web,
)
from api.app_types import Committer, Services
from api.limits import RateLimit
from ledger.heap import freeze_startup_heap
from ledger.keys import SigningKey
from ledger.labels.links import Links
from ledger.note import NoteSigner
from ledger.share import ShareLinks
from ledger.storage.create import LOG_KEY_FILE, key_dir
from ledger.storage.engine import database_url, make_engine
from ledger.storage.nodecache import NodeCache
from ledger.storage.reader import LogReader
from ledger.storage.relay import RelayClient
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import SqlLog


def create_app(
    url: str,
    keys: Path,
    *,
    rate_limit: float | None = None,
    rate_burst: float | None = None,
    links: Links | None = None,
    demo: bool = False,
    sequencer: Path | None = None,
) -> FastAPI:
    """The API over the log at ``url`` whose checkpoint key is in ``keys``.

    ``rate_limit`` (requests per second per client; 0 for none) overrides
    ``TIZBEK_RATE_LIMIT``; ``links`` (label URLs) overrides ``TIZBEK_BASE_URL``
    and ``TIZBEK_GS1_PREFIX``. ``demo`` (only ``tizbek demo`` sets it) lets the web app bind
    a browser's key with the authority key in ``keys``. ``sequencer`` is the socket of the
    serving process's sequencer (:mod:`ledger.storage.relay`), which then appends for
    this app; without it the app runs a sequencer of its own.
    """
    links = links or Links.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(url)
        reader = LogReader(engine, hold=True, nodes=NodeCache())
        signer = NoteSigner(reader.genesis().origin, SigningKey.load(keys / LOG_KEY_FILE))
        log: SqlLog | None = None
        committer: Committer
        if sequencer is not None:
            committer = RelayClient(sequencer, reader.public_key)
        else:
            log = SqlLog(engine, signer)
            committer = GroupCommitter(log)
        app.state.services = Services(
            committer, reader, signer, links, ShareLinks.for_log(signer.key)
        )
        # Full collections walking what start-up built showed as tail latency.
        freeze_startup_heap()
        try:
            yield
        finally:
            committer.close()
            if log is not None:
                log.close()
            reader.close()
            engine.dispose()

    app = FastAPI(
        title="Tizbek",
        version="1",
        summary="A verifiable chain-of-custody ledger for electronic waste",
        lifespan=lifespan,
    )
    problems.install(app)
    routers = (
        public,
        submissions,
        readers,
        registry,
        exports,
        epcis,
        insight,
        reports,
        labels,
        scan,
    )
    for router in (module.router for module in routers):
        app.include_router(router, responses=problems.RESPONSES)
    fastroutes.install(app, [*public.FAST_ROUTES, *submissions.FAST_ROUTES])
    web.install(app, demo_authority=keys if demo else None)
    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static")
    _add_problem_schema(app)
    if rate_limit is None:
        app.add_middleware(_EnvRateLimit)
    elif rate_limit > 0:
        app.add_middleware(RateLimit, rate=rate_limit, burst=rate_burst or 2 * rate_limit)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema into the OpenAPI components the error responses refer to."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = make()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = problems.Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class _EnvRateLimit:
    """The rate limit the environment configures (see :mod:`api.limits`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = RateLimit.from_env(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


#: Set by ``tizbek serve --workers N`` for its workers: the socket of its sequencer.
SEQUENCER_ENV = "TIZBEK_SEQUENCER_SOCKET"


def app_from_env() -> FastAPI:
    """The API configured by ``TIZBEK_DATABASE_URL`` and ``TIZBEK_KEY_DIR`` (and, in a worker
    of ``tizbek serve --workers N``, the sequencer's socket)."""
    socket = os.environ.get(SEQUENCER_ENV)
    return create_app(database_url(), key_dir(), sequencer=Path(socket) if socket else None)
