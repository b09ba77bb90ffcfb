"""Estimated e-waste generated per region and year: the denominator of the collection rate.

The log documents what was collected; how much was generated comes from
elsewhere (a national monitor, a survey). An operator gives it as a JSON file
named by ``TIZBEK_GENERATED_ESTIMATES`` (or ``tizbek stats --generated``):
``{"Almaty": {"2026": 61000000}}``, kilograms per region per year.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

ENV = "TIZBEK_GENERATED_ESTIMATES"
_YEAR = re.compile(r"^\d{4}$")


def load_estimates(path: str | Path | None = None) -> dict[str, dict[str, int]]:
    """The estimates in ``path`` (default: ``TIZBEK_GENERATED_ESTIMATES``; none if unset).

    Raises :class:`ValueError` with a one-line reason for a missing or malformed file.
    """
    name = str(path) if path is not None else os.environ.get(ENV, "").strip()
    if not name:
        return {}
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(
            f"cannot read the generated-e-waste estimates {name}: {exc.strerror}"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{name} must hold an object: region -> year -> kg")
    found: dict[str, dict[str, int]] = {}
    for region, years in data.items():
        if not isinstance(years, dict):
            raise ValueError(f"{name}: {region!r} must map years to kg")
        for year, kg in years.items():
            if not _YEAR.match(str(year)) or not isinstance(kg, int) or isinstance(kg, bool):
                raise ValueError(f"{name}: {region!r} {year!r} must be a year and whole kg")
            if kg <= 0:
                raise ValueError(f"{name}: {region!r} {year!r} must be more than 0 kg")
            found.setdefault(region, {})[str(year)] = kg
    return found
