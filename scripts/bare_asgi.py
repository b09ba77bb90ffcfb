"""The smallest ASGI application: `bench_api.py`'s baseline for what HTTP alone costs here.

Served by uvicorn with the same event loop, HTTP parser and worker count as
`tizbek serve`, it answers every request with a fixed JSON document of about
the size of `GET /v1/log`'s, doing no other work. The requests a second it
answers, measured in the same run as the API, are the ceiling any endpoint
could reach on the machine at that moment; the benchmark prints the API's
rates as shares of it.
"""

from __future__ import annotations

from typing import Any

BODY = (
    b'{"origin":"bench.tizbek.kz/log","size":100000,'
    b'"verifier_key":"bench.tizbek.kz/log+0123abcd+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="}'
)
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer any HTTP request with ``BODY``."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
