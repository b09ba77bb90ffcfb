"""Shared request plumbing: the services of the running app."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from api.app_types import Services


def services_of(request: Request) -> Services:
    """The services of the app serving ``request`` (for routes that take no dependencies)."""
    return cast("Services", request.app.state.services)


async def services(request: Request) -> Services:
    """The log's sequencer and reader, as a dependency."""
    return services_of(request)
