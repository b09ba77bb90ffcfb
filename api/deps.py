"""Shared request plumbing: the services of the running app."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from api.app_types import Services


async def services(request: Request) -> Services:
    """The log's sequencer and reader."""
    return cast("Services", request.app.state.services)
