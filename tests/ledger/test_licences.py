"""Which recyclers a dispatch may go to: licences active, valid on the day, covering every lot."""

from __future__ import annotations

from typing import Any

from ledger.custody.licences import covering_licence, recyclers_for


def _org(ident: str, **licences: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ident,
        "name": ident.upper(),
        "region": "Karaganda Region",
        "roles": ["recycler"],
        "status": "active",
        "licences": licences,
    }


def _lic(**changes: Any) -> dict[str, Any]:
    lic = {
        "status": "active",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "waste_codes": ["20 01 35*", "20 01 36"],
        "categories": [5, 6],
        "operations": ["R4"],
    }
    lic.update(changes)
    return lic


SCREENS = {"waste_code": "20 01 35*", "category": 2}
PHONES = {"waste_code": "20 01 35*", "category": 6}
FRIDGE = {"waste_code": "20 01 23*", "category": 1}


def test_a_licence_covers_a_lot_on_its_days_for_its_codes_and_categories() -> None:
    org = _org("a", L1=_lic())
    assert covering_licence(org, day="2026-06-01", waste_code="20 01 35*", category=6) == "L1"
    assert covering_licence(org, day="2027-01-01", waste_code="20 01 35*", category=6) is None
    assert covering_licence(org, day="2026-06-01", waste_code="20 01 35*", category=2) is None
    assert covering_licence(org, day="2026-06-01", waste_code="20 01 23*", category=6) is None
    assert (
        covering_licence(org, day="2026-06-01", waste_code="20 01 36", category=5, operation="D10")
        is None
    )
    suspended = _org("b", L1=_lic(status="suspended"))
    assert covering_licence(suspended, day="2026-06-01", waste_code="20 01 36", category=5) is None


def test_recyclers_are_offered_only_when_one_licence_or_another_covers_every_lot() -> None:
    orgs = [
        _org("phones-only", L1=_lic()),
        _org("screens-too", L1=_lic(), L2=_lic(categories=[2])),
        _org("expired", L1=_lic(valid_to="2026-03-01")),
        {**_org("deregistered", L1=_lic()), "status": "deregistered"},
        {**_org("collector", L1=_lic()), "roles": ["collector"]},
    ]
    day = "2026-06-01"
    assert [e.org for e in recyclers_for(orgs, [PHONES], day=day)] == ["phones-only", "screens-too"]
    both = recyclers_for(orgs, [PHONES, SCREENS], day=day)
    assert [(e.org, e.licences) for e in both] == [("screens-too", ("L1", "L2"))]
    assert recyclers_for(orgs, [PHONES, FRIDGE], day=day) == []
    assert [e.org for e in recyclers_for(orgs, [], day=day)] == ["phones-only", "screens-too"]
    assert [e.org for e in recyclers_for(orgs, [], day="2026-02-01")] == [
        "expired", "phones-only", "screens-too",
    ]  # fmt: skip
