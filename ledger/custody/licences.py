"""Which licence covers a lot, read from the registry's organisation documents.

The custody rules refuse a dispatch to a recycler, or a receipt or treatment
by one, without a licence that is active, valid on the day and covers the
lot's waste code and WEEE category (protocol §11.4, rule ``licence``). These
functions answer the same question ahead of signing, so a client can offer
only the recyclers a dispatch would be accepted for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Doc = Mapping[str, Any]


def covering_licence(
    org: Doc, *, day: str, waste_code: str, category: int, operation: str | None = None
) -> str | None:
    """The number of ``org``'s first licence (by number) that covers the lot on ``day``."""
    for number, lic in sorted(org.get("licences", {}).items()):
        if (
            lic["status"] == "active"
            and lic["valid_from"] <= day <= lic["valid_to"]
            and waste_code in lic["waste_codes"]
            and category in lic["categories"]
            and (operation is None or operation in lic["operations"])
        ):
            return str(number)
    return None


@dataclass(frozen=True)
class Eligible:
    """A recycler that may receive every lot asked about, and the licences that allow it."""

    org: str
    name: str
    region: str
    licences: tuple[str, ...]


def recyclers_for(orgs: Iterable[Doc], lots: Sequence[Doc], *, day: str) -> list[Eligible]:
    """The active recyclers whose licences, on ``day``, cover every one of ``lots``.

    With no lots, every active recycler holding a licence valid on ``day``.
    """
    found = []
    for org in orgs:
        if org.get("status") != "active" or "recycler" not in org.get("roles", ()):
            continue
        if lots:
            numbers = [
                covering_licence(
                    org, day=day, waste_code=lot["waste_code"], category=lot["category"]
                )
                for lot in lots
            ]
            if any(n is None for n in numbers):
                continue
            chosen = tuple(sorted({n for n in numbers if n is not None}))
        else:
            chosen = tuple(
                sorted(
                    number
                    for number, lic in org.get("licences", {}).items()
                    if lic["status"] == "active" and lic["valid_from"] <= day <= lic["valid_to"]
                )
            )
            if not chosen:
                continue
        found.append(Eligible(org["id"], org["name"], org.get("region", ""), chosen))
    return sorted(found, key=lambda e: (e.name, e.org))
