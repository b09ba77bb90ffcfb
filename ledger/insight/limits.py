"""The thresholds the findings use, each with a default an operator may change."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

ENV_PREFIX = "TIZBEK_FINDING_"

#: Every kind of finding, in the order they are reported.
KINDS = (
    "transit_too_long",
    "discrepancy_overdue",
    "never_dispatched",
    "weight_loss",
    "licence_invalid",
    "mass_balance",
    "two_places",
)


@dataclass(frozen=True)
class Limits:
    """When something becomes a finding."""

    #: A transfer dispatched and not received after this many days.
    transit_days: int = 7
    #: A lot registered and never dispatched after this many days.
    undispatched_days: int = 30
    #: Weight lost between collection and receipt, per collector or carrier, above this.
    weight_loss_percent: int = 5
    #: Weight a facility's treatments and splits leave unaccounted in a month, above this
    #: share of what it treated and split.
    mass_balance_percent: int = 5
    #: A transfer received this soon after its dispatch, between regions, was signed for
    #: at two places at once.
    travel_minutes: int = 60

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """Limits from ``TIZBEK_FINDING_TRANSIT_DAYS`` and the like; defaults otherwise."""
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field in fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper(), "").strip()
            if raw:
                if not raw.isdigit() or int(raw) < 1:
                    raise ValueError(
                        f"{ENV_PREFIX}{field.name.upper()} must be a whole number >= 1"
                    )
                values[field.name] = int(raw)
        return cls(**values)
