"""Fast routes: the hottest requests answered without FastAPI's per-request machinery.

Devices post submissions and verifiers fetch proofs and checkpoints far more
often than anything else is asked for. FastAPI resolves dependencies, validates
parameters against their models and serialises a response model for every
request, which on a small server costs more than the answer itself. A
:class:`FastRoute` sits in front of the documented FastAPI route of the same
path and method: it takes the requests it can answer from their raw form
(well-formed parameters in range) and answers them with the same bytes the
FastAPI route renders, and it leaves every other request (a missing, malformed
or out-of-range parameter, another method) to the FastAPI route behind it, so
errors keep their one problem+json form. The FastAPI routes remain the API's
definition: its OpenAPI schema, its documentation and its validation.

Middleware (rate limits, body limits) and exception handlers wrap both alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

#: Parses a request's raw query string into the endpoint's parameters, or returns
#: None to leave the request to the FastAPI route.
QueryParser = Callable[[bytes], dict[str, Any] | None]
Endpoint = Callable[[Request], Awaitable[Response]]

#: Where a fast route puts the parameters its parser found (in the request's scope).
PARAMS = "tizbek.params"


class FastRoute(Route):
    """A route that answers only the requests ``parse`` accepts, with ``method`` only."""

    def __init__(
        self, path: str, endpoint: Endpoint, *, method: str, parse: QueryParser | None = None
    ) -> None:
        super().__init__(path, endpoint, methods=[method], include_in_schema=False)
        self.method = method
        self.parse = parse

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] != self.method:
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is not Match.FULL:
            return Match.NONE, {}
        if self.parse is None:
            return match, child
        params = self.parse(scope.get("query_string", b""))
        if params is None:
            return Match.NONE, {}
        return match, {**child, PARAMS: params}


def params(request: Request) -> dict[str, Any]:
    """The parameters a fast route's parser found for this request."""
    found: dict[str, Any] = request.scope[PARAMS]
    return found


def integer_query(bounds: dict[str, tuple[int, int]]) -> QueryParser:
    """A parser of query strings that hold exactly the named integer parameters, each
    once, in decimal and within its inclusive ``(low, high)`` bounds."""
    longest = {name: len(str(high)) for name, (_, high) in bounds.items()}

    def parse(query: bytes) -> dict[str, Any] | None:
        found: dict[str, Any] = {}
        for part in query.split(b"&"):
            name_bytes, equals, digits = part.partition(b"=")
            name = name_bytes.decode("ascii", "replace")
            if not equals or name not in bounds or name in found:
                return None
            if not digits.isdigit() or len(digits) > longest[name]:
                return None
            value = int(digits)
            low, high = bounds[name]
            if not low <= value <= high:
                return None
            found[name] = value
        return found if len(found) == len(bounds) else None

    return parse


def install(app: FastAPI, routes: Sequence[FastRoute]) -> None:
    """Put ``routes`` in front of every route of ``app``."""
    app.router.routes[0:0] = list(routes)
