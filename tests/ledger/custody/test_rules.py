"""Every custody event type: its happy path, and each refusal the rules demand."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.demo import lot_fields
from ledger.errors import VerificationError
from ledger.keys import SigningKey
from ledger.labels import ids
from tests.ledger.custody.world import (
    AUTHORITY,
    L1,
    L2,
    L3,
    L5,
    L9,
    LB,
    OUTPUTS,
    World,
    lot_id,
)


@pytest.fixture
def world() -> World:
    return World()


# --- organisations ---------------------------------------------------------------------


def test_org_registered_is_a_document_and_a_registry_entry(world: World) -> None:
    org = world.doc("org", "rec-a")
    assert (org["roles"], org["status"], org["country"]) == (["recycler"], "active", "KZ")
    assert list(org["licences"]) == ["LIC-A"]


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"bin": "12345"}, "format"),
        ({"country": "Kazakhstan"}, "format"),
        ({"roles": ["smelter"]}, "format"),
        ({"roles": []}, "format"),
        ({"name": ""}, "format"),
        ({"org": "col-a"}, "unique-id"),
    ],
)
def test_org_registered_refusals(world: World, fields: dict[str, Any], rule: str) -> None:
    event = {
        "org": "new-org",
        "name": "New LLP",
        "bin": "210440000123",
        "roles": ["collector"],
        "country": "KZ",
        "region": "Almaty",
    }
    event.update(fields)
    world.refused(AUTHORITY, "org.registered", rule, **event)


def test_only_the_authority_registers(world: World) -> None:
    error = world.refused(
        "col-a",
        "org.registered",
        "authority-only",
        org="x",
        name="X",
        bin="210440000123",
        roles=["collector"],
        country="KZ",
        region="Almaty",
    )
    assert "must be signed by the authority kz-eco, not col-a" in error.message


def test_org_updated_and_deregistered(world: World) -> None:
    world.submit(AUTHORITY, "org.updated", org="col-b", roles=["collector", "transporter"])
    assert world.doc("org", "col-b")["roles"] == ["collector", "transporter"]
    world.refused(AUTHORITY, "org.updated", "format", org="col-b")
    world.refused(AUTHORITY, "org.updated", "registered-org", org="nobody", name="N")
    world.submit(AUTHORITY, "org.deregistered", org="col-b", reason="closed its business")
    assert world.doc("org", "col-b")["status"] == "deregistered"
    error = world.refused(
        "col-b", "lot.registered", "registered-org", **lot_fields(lot_id(8, "col-b"))
    )
    assert "deregistered" in error.message
    world.refused(AUTHORITY, "org.deregistered", "registered-org", org="col-b", reason="again")


# --- licences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"license": "LIC-A"}, "unique-id"),
        ({"valid_to": "2025-01-01"}, "format"),
        ({"valid_from": "2026-02-30"}, "format"),
        ({"operations": ["R99"]}, "format"),
        ({"waste_codes": ["16-02-14"]}, "format"),
        ({"categories": [7]}, "format"),
        ({"org": "nobody"}, "registered-org"),
    ],
)
def test_license_granted_refusals(world: World, fields: dict[str, Any], rule: str) -> None:
    event = {
        "org": "rec-a",
        "license": "LIC-NEW",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "waste_codes": ["16 02 14"],
        "categories": [6],
        "operations": ["R4"],
    }
    event.update(fields)
    world.refused(AUTHORITY, "license.granted", rule, **event)


def test_license_suspended_then_revoked(world: World) -> None:
    world.lot(L1)
    world.submit(AUTHORITY, "license.suspended", org="rec-a", license="LIC-A", reason="audit")
    error = world.refused(
        "col-a",
        "transfer.dispatched",
        "licence",
        transfer="T1",
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 182_500}],
        to="rec-a",
    )
    assert "LIC-A is suspended" in error.message
    world.refused(
        AUTHORITY,
        "license.suspended",
        "licence-state",
        org="rec-a",
        license="LIC-A",
        reason="again",
    )
    world.submit(AUTHORITY, "license.revoked", org="rec-a", license="LIC-A", reason="fraud")
    assert world.doc("org", "rec-a")["licences"]["LIC-A"]["status"] == "revoked"
    world.refused(
        AUTHORITY, "license.revoked", "licence-state", org="rec-a", license="LIC-A", reason="again"
    )
    world.refused(
        AUTHORITY, "license.revoked", "licence-exists", org="rec-a", license="LIC-Z", reason="x"
    )


# --- keys ------------------------------------------------------------------------------


def test_keys_need_a_registered_org(world: World) -> None:
    key = SigningKey.generate()
    world.refused(
        AUTHORITY,
        "key.bound",
        "registered-org",
        org="ghost",
        public_key=key.public.base64,
        key_id=key.key_id,
        label="x",
    )


def test_an_admin_key_manages_its_own_orgs_keys(world: World) -> None:
    admin = world.bind("col-b", admin=True)
    phone = SigningKey.generate()
    world.submit(
        "col-b",
        "key.bound",
        key=admin,
        org="col-b",
        public_key=phone.public.base64,
        key_id=phone.key_id,
        label="second phone",
    )
    world.submit("col-b", "key.revoked", key=admin, key_id=phone.key_id, reason="lost")
    other = SigningKey.generate()
    with pytest.raises(VerificationError) as caught:
        world.submit(
            "col-b",
            "key.bound",
            key=admin,
            org="col-a",
            public_key=other.public.base64,
            key_id=other.key_id,
            label="x",
        )
    assert caught.value.check == "registry"
    with pytest.raises(VerificationError) as caught:
        world.submit("col-a", "key.revoked", key_id=phone.key_id, reason="not an admin")
    assert caught.value.check == "registry"


# --- lots ------------------------------------------------------------------------------


def test_lot_registered(world: World) -> None:
    world.lot(L1, producer="prod-a")
    lot = world.doc("lot", L1)
    assert (lot["state"], lot["holder"], lot["collector"]) == ("held", "col-a", "col-a")
    assert (lot["origins"], lot["region"], lot["producer"]) == ({L1: 182_500}, "Almaty", "prod-a")


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"hazardous": False}, "hazard-class"),
        ({"hp_codes": []}, "hazard-class"),
        ({"waste_code": "20 01 36", "hazardous": False}, "hazard-class"),
        ({"hp_codes": ["HP99"]}, "format"),
        ({"category": 9}, "format"),
        ({"waste_code": "2001 35"}, "format"),
        ({"weight_g": 0}, "format"),
        ({"items": 0}, "format"),
        ({"source": "street"}, "format"),
        ({"weight_measured": "yes"}, "format"),
        ({"producer": "col-b"}, "role"),
        ({"producer": "ghost"}, "registered-org"),
    ],
)
def test_lot_registered_refusals(world: World, changes: dict[str, Any], rule: str) -> None:
    world.refused("col-a", "lot.registered", rule, **lot_fields(L1, **changes))


def test_only_collectors_register_lots(world: World) -> None:
    error = world.refused("trans-a", "lot.registered", "role", **lot_fields(L1))
    assert "trans-a does not have the collector role" in error.message


def test_a_lot_id_is_registered_once(world: World) -> None:
    world.lot(L1)
    with pytest.raises(VerificationError) as caught:
        world.lot(L1, "col-b")
    assert caught.value.check == "reference"


# --- transfers -------------------------------------------------------------------------


def test_dispatch_take_over_receive(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    assert (world.doc("lot", L1)["state"], world.doc("lot", L1)["transfer"]) == (
        "dispatched",
        "T1",
    )
    world.take("T1")
    assert (world.doc("lot", L1)["state"], world.doc("lot", L1)["holder"]) == (
        "in_transit",
        "trans-a",
    )
    world.receive("T1", [L1])
    lot, transfer = world.doc("lot", L1), world.doc("transfer", "T1")
    assert (lot["state"], lot["holder"], lot["weight_g"]) == ("held", "rec-a", 181_900)
    assert lot["discrepancy"] is None
    assert transfer["state"] == "received"


def _dispatch_refused(world: World, rule: str, lots: list[str], **more: Any) -> VerificationError:
    fields: dict[str, Any] = {"to": "rec-a", "transporter": "trans-a"}
    fields.update(more)
    return world.refused(
        fields.pop("sender", "col-a"),
        "transfer.dispatched",
        rule,
        transfer="T9",
        lots=[{"lot": lot, "after": world.head("lot", lot), "weight_g": 1000} for lot in lots],
        **fields,
    )


def test_dispatch_refusals(world: World) -> None:
    world.lot(L1)
    world.lot(LB, "col-b")
    world.lot(L5, waste_code="16 02 11*", hp_codes=["HP14"])
    assert "held by col-b, not col-a" in _dispatch_refused(world, "holder", [LB]).message
    _dispatch_refused(world, "destination", [L1], to="col-a")
    _dispatch_refused(world, "destination", [L1], to="trans-b")
    _dispatch_refused(world, "registered-org", [L1], to="ghost")
    _dispatch_refused(world, "role", [L1], transporter="col-b")
    _dispatch_refused(world, "role", [L1], transporter=["trans-a", "rec-b"])
    _dispatch_refused(world, "format", [L1], transporter=[])
    _dispatch_refused(world, "transfer-link", [L1], follows="T-NONE")
    error = _dispatch_refused(world, "licence", [L5])
    assert "does not cover waste code 16 02 11*" in error.message
    world.dispatch("T1", [L1])
    error = world.refused(
        "col-a",
        "transfer.dispatched",
        "lot-state",
        transfer="T2",
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1000}],
        to="rec-a",
    )
    assert f"lot {L1} in state dispatched" in error.message


def test_a_collection_site_needs_no_licence(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1], to="col-b", transporter=None)
    world.receive("T1", [L1], to="col-b")
    assert world.doc("lot", L1)["holder"] == "col-b"


def test_an_expired_licence_refuses_dispatch_and_receipt(world: World) -> None:
    world.lot(L1)
    world.lot(L2)
    world.dispatch("T1", [L1], to="rec-b")  # rec-b's licence runs to 2026-11-15
    world.tick(days=14)
    error = _dispatch_refused(world, "licence", [L2], to="rec-b")
    assert "valid 2026-01-01 to 2026-11-15" in error.message
    world.take("T1")
    world.refused(
        "rec-b",
        "transfer.received",
        "licence",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1, "outcome": "accepted"}],
    )


def test_take_over_refusals_and_legs(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1], transporter=["trans-a", "trans-b"])
    world.refused(
        "trans-b",
        "transfer.taken_over",
        "transporter",
        transfer="T1",
        after=world.head("transfer", "T1"),
    )
    world.refused(
        "rec-a",
        "transfer.received",
        "transporter",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1, "outcome": "accepted"}],
    )
    world.take("T1", "trans-a")
    world.refused(
        "trans-a",
        "transfer.taken_over",
        "transporter",
        transfer="T1",
        after=world.head("transfer", "T1"),
    )
    world.take("T1", "trans-b")
    assert world.doc("lot", L1)["holder"] == "trans-b"
    world.refused(
        "trans-b",
        "transfer.taken_over",
        "transporter",
        transfer="T1",
        after=world.head("transfer", "T1"),
    )
    world.refused(
        "col-a", "transfer.taken_over", "role", transfer="T1", after=world.head("transfer", "T1")
    )
    world.receive("T1", [L1])
    world.refused(
        "trans-b",
        "transfer.taken_over",
        "transfer-state",
        transfer="T1",
        after=world.head("transfer", "T1"),
    )


def test_receipt_refusals(world: World) -> None:
    world.lot(L1)
    world.lot(L2)
    world.dispatch("T1", [L1, L2])
    world.take("T1")
    error = world.refused(
        "rec-b",
        "transfer.received",
        "destination",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1, "outcome": "accepted"}],
    )
    assert "goes to rec-a, not rec-b" in error.message
    world.refused(
        "rec-a",
        "transfer.received",
        "receipt-lots",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1, "outcome": "accepted"}],
    )
    world.refused(
        "rec-a",
        "transfer.received",
        "format",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[
            {"lot": lot, "after": world.head("lot", lot), "weight_g": 1, "outcome": "maybe"}
            for lot in (L1, L2)
        ],
    )


def test_a_weight_difference_opens_a_discrepancy(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    world.receive("T1", [L1], weight_g=150_000)  # 17.8 % short
    found = world.doc("lot", L1)["discrepancy"]
    assert (found["status"], found["declared_g"], found["measured_g"]) == ("open", 182_500, 150_000)
    assert found["deadline"] == "2026-11-17"


def test_a_changed_item_count_opens_a_discrepancy(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    world.receive("T1", [L1], items=39)
    assert world.doc("lot", L1)["discrepancy"]["counted_items"] == 39


def test_a_refused_lot_returns_to_the_sender_and_may_go_elsewhere(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    world.receive("T1", [L1], outcome="refused", reason="not WEEE: building rubble")
    lot = world.doc("lot", L1)
    assert (lot["state"], lot["holder"]) == ("held", "col-a")
    assert world.doc("transfer", "T1")["state"] == "refused"
    world.dispatch("T2", [L1], to="rec-b", follows="T1")
    assert world.doc("transfer", "T2")["follows"] == "T1"


def test_a_partial_refusal_splits_off_a_return_lot(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    world.receive(
        "T1",
        [L1],
        weight_g=182_000,
        outcome="partially_refused",
        refused_weight_g=32_000,
        reason="two CRT monitors",
        return_lot="L1-R",
    )
    kept, back = world.doc("lot", L1), world.doc("lot", "L1-R")
    assert (kept["holder"], kept["weight_g"]) == ("rec-a", 150_000)
    assert (back["holder"], back["weight_g"], back["parents"]) == ("col-a", 32_000, [L1])
    assert kept["origins"][L1] + back["origins"][L1] <= 182_500  # as registered


# --- splitting, merging, processing, loss ----------------------------------------------


def test_split_and_its_refusals(world: World) -> None:
    world.lot(L1)
    world.refused(
        "col-a",
        "lot.split",
        "weights",
        lot=L1,
        after=world.head("lot", L1),
        children=[{"lot": "C1", "weight_g": 100_000}, {"lot": "C2", "weight_g": 90_000}],
    )
    world.refused(
        "col-b",
        "lot.split",
        "holder",
        lot=L1,
        after=world.head("lot", L1),
        children=[{"lot": "C1", "weight_g": 1}],
    )
    world.submit(
        "col-a",
        "lot.split",
        lot=L1,
        after=world.head("lot", L1),
        children=[
            {"lot": "C1", "weight_g": 100_000, "items": 20},
            {"lot": "C2", "weight_g": 82_500, "items": 20},
        ],
    )
    assert world.doc("lot", L1)["state"] == "split"
    assert world.doc("lot", "C1")["origins"] == {L1: 100_000}
    world.refused("col-a", "lot.lost", "lot-state", lot=L1, after=world.head("lot", L1), reason="x")


def test_merge_and_its_refusals(world: World) -> None:
    world.lot(L1)
    world.lot(L2, weight_g=50_000)
    world.lot(L3, category=5)

    def merge(rule: str | None, lots: list[str], **more: Any) -> None:
        fields: dict[str, Any] = {
            "lots": [{"lot": x, "after": world.head("lot", x)} for x in lots],
            "into": "M1",
        }
        fields.update(more)
        if rule is None:
            world.submit("col-a", "lot.merged", **fields)
        else:
            world.refused("col-a", "lot.merged", rule, **fields)

    merge("merge-category", [L1, L3])
    merge("format", [L1])
    merge(None, [L1, L2])
    merged = world.doc("lot", "M1")
    assert (merged["weight_g"], merged["origins"]) == (232_500, {L1: 182_500, L2: 50_000})
    assert world.doc("lot", L1)["merged_into"] == "M1"


def test_processing_and_its_refusals(world: World) -> None:
    world.deliver(L1, "T1")
    world.refused(
        "col-a",
        "lot.processed",
        "role",
        lot=L1,
        after=world.head("lot", L1),
        operation="R4",
        outputs=OUTPUTS,
    )
    world.refused(
        "rec-a",
        "lot.processed",
        "licence",
        lot=L1,
        after=world.head("lot", L1),
        operation="R5",
        outputs=OUTPUTS,
    )
    heavy = [{"waste_code": "19 12 02", "material": "ferrous", "weight_g": 190_000}]
    error = world.refused(
        "rec-a",
        "lot.processed",
        "mass-balance",
        lot=L1,
        after=world.head("lot", L1),
        operation="R4",
        outputs=heavy,
    )
    assert "more than its 181900 g plus 2 % tolerance" in error.message
    world.refused(
        "rec-a",
        "lot.processed",
        "format",
        lot=L1,
        after=world.head("lot", L1),
        operation="R4",
        outputs=[{"waste_code": "19 12 02", "material": "gold?", "weight_g": 1}],
    )
    world.process(
        L1,
        outputs=[
            *OUTPUTS,
            {
                "waste_code": "19 12 03",
                "material": "non_ferrous",
                "weight_g": 20_000,
                "lot": "L1-CU",
            },
        ],
    )
    assert world.doc("lot", L1)["state"] == "processed"
    copper = world.doc("lot", "L1-CU")
    assert (copper["holder"], copper["waste_code"], copper["state"]) == (
        "rec-a",
        "19 12 03",
        "held",
    )
    world.refused(
        "rec-a",
        "lot.processed",
        "lot-state",
        lot=L1,
        after=world.head("lot", L1),
        operation="R4",
        outputs=OUTPUTS,
    )


def test_a_recycler_processes_only_what_it_holds(world: World) -> None:
    world.deliver(L1, "T1")
    world.grant("rec-b", "LIC-B2", "2026-01-01", "2027-12-31")
    world.refused(
        "rec-b",
        "lot.processed",
        "holder",
        lot=L1,
        after=world.head("lot", L1),
        operation="R4",
        outputs=OUTPUTS,
    )


def test_lost_lots(world: World) -> None:
    world.lot(L1)
    world.refused("col-b", "lot.lost", "holder", lot=L1, after=world.head("lot", L1), reason="x")
    world.submit(
        "col-a", "lot.lost", lot=L1, after=world.head("lot", L1), reason="stolen from the depot"
    )
    assert world.doc("lot", L1)["state"] == "lost"


# --- inspections, discrepancies, revisions ---------------------------------------------


def test_inspections(world: World) -> None:
    world.lot(L1)
    world.submit(
        "insp",
        "inspection.recorded",
        target={"kind": "lot", "id": L1},
        finding="seal intact, weight matches",
    )
    assert world.doc("lot", L1)["inspections"][0]["by"] == "insp"
    world.refused(
        "col-b", "inspection.recorded", "role", target={"kind": "lot", "id": L1}, finding="x"
    )
    world.refused(
        "insp",
        "inspection.recorded",
        "inspection-target",
        target={"kind": "org", "id": "ghost"},
        finding="x",
    )


def _short_receipt(world: World) -> int:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    return world.receive("T1", [L1], weight_g=150_000).seq


def test_an_inspector_resolves_a_discrepancy(world: World) -> None:
    world.refused("insp", "discrepancy.resolved", "discrepancy", subject_lot=L1, resolution="x")
    _short_receipt(world)
    world.refused("col-a", "discrepancy.resolved", "role", subject_lot=L1, resolution="x")
    world.submit(
        "insp",
        "discrepancy.resolved",
        subject_lot=L1,
        resolution="scale at the depot was out of calibration",
    )
    assert world.doc("lot", L1)["discrepancy"]["status"] == "resolved"


def test_a_revision_takes_effect_when_every_party_approves(world: World) -> None:
    seq = _short_receipt(world)
    world.refused(
        "trans-b",
        "revision.proposed",
        "revision-party",
        revision="R1",
        entry=seq,
        changes=[{"lot": L1, "weight_g": 180_000}],
        reason="x",
    )
    world.refused(
        "rec-a",
        "revision.proposed",
        "revision-target",
        revision="R1",
        entry=seq,
        changes=[{"lot": L9, "weight_g": 1}],
        reason="x",
    )
    world.submit(
        "rec-a",
        "revision.proposed",
        revision="R1",
        entry=seq,
        changes=[{"lot": L1, "weight_g": 180_000}],
        reason="weighed before the rain cover was removed",
    )
    revision = world.doc("revision", "R1")
    assert (revision["state"], revision["parties"]) == ("proposed", ["col-a", "rec-a"])
    assert world.doc("lot", L1)["weight_g"] == 150_000
    world.refused("rec-a", "revision.approved", "revision-party", revision="R1")
    world.refused("trans-a", "revision.approved", "revision-party", revision="R1")
    world.submit("col-a", "revision.approved", revision="R1")
    lot = world.doc("lot", L1)
    assert (lot["weight_g"], lot["discrepancy"]["status"]) == (180_000, "resolved")
    assert world.doc("revision", "R1")["state"] == "applied"
    world.refused("col-a", "revision.approved", "revision-state", revision="R1")
    world.refused("col-a", "revision.approved", "revision-exists", revision="R2")


# --- time and unknown events -----------------------------------------------------------


def test_signer_times_never_go_back_along_a_lot(world: World) -> None:
    world.lot(L1)
    error = world.refused(
        "col-a",
        "lot.lost",
        "time-order",
        lot=L1,
        after=world.head("lot", L1),
        reason="x",
        at="2026-11-01T00:00:00Z",
    )
    assert "before the lot's latest event" in error.message


def test_signer_time_within_the_clock_skew(world: World) -> None:
    world.refused(
        "col-a", "lot.registered", "clock-skew", at="2026-11-02T09:00:00Z", **lot_fields(L1)
    )
    world.refused(
        "col-a", "lot.registered", "clock-skew", at="2026-10-01T09:00:00Z", **lot_fields(L1)
    )


def test_unknown_event_types_are_refused(world: World) -> None:
    world.refused("col-a", "lot.painted", "event-type", colour="green")


# --- the remaining refusals, one each --------------------------------------------------


def test_suspending_an_unknown_licence(world: World) -> None:
    world.refused(
        AUTHORITY,
        "license.suspended",
        "licence-exists",
        org="rec-a",
        license="LIC-NONE",
        reason="x",
    )


def test_receipt_weights_and_a_second_receipt(world: World) -> None:
    world.lot(L1)
    world.dispatch("T1", [L1])
    world.take("T1")
    world.refused(
        "rec-a",
        "transfer.received",
        "weights",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[
            {
                "lot": L1,
                "after": world.head("lot", L1),
                "weight_g": 1000,
                "outcome": "partially_refused",
                "refused_weight_g": 1000,
                "reason": "x",
                "return_lot": "L1-R",
            }
        ],
    )
    world.receive("T1", [L1])
    world.refused(
        "rec-a",
        "transfer.received",
        "transfer-state",
        transfer="T1",
        after=world.head("transfer", "T1"),
        lots=[{"lot": L1, "after": world.head("lot", L1), "weight_g": 1, "outcome": "accepted"}],
    )


def test_split_format_and_state(world: World) -> None:
    world.lot(L1)
    world.refused(
        "col-a", "lot.split", "format", lot=L1, after=world.head("lot", L1), children=["C1"]
    )
    world.dispatch("T1", [L1])
    world.refused(
        "col-a",
        "lot.split",
        "lot-state",
        lot=L1,
        after=world.head("lot", L1),
        children=[{"lot": "C1", "weight_g": 1}],
    )


def test_merge_holder_and_state(world: World) -> None:
    world.lot(L1)
    world.lot(L2)
    world.lot(LB, "col-b")
    lots = [{"lot": x, "after": world.head("lot", x)} for x in (L1, LB)]
    world.refused("col-a", "lot.merged", "holder", lots=lots, into="M1")
    world.dispatch("T1", [L2])
    lots = [{"lot": x, "after": world.head("lot", x)} for x in (L1, L2)]
    world.refused("col-a", "lot.merged", "lot-state", lots=lots, into="M1")


def test_revision_ids_are_unique_and_changes_well_formed(world: World) -> None:
    seq = _short_receipt(world)
    world.submit(
        "rec-a",
        "revision.proposed",
        revision="R1",
        entry=seq,
        changes=[{"lot": L1, "weight_g": 180_000}],
        reason="tare",
    )
    world.refused(
        "rec-a",
        "revision.proposed",
        "unique-id",
        revision="R1",
        entry=seq,
        changes=[{"lot": L1, "weight_g": 170_000}],
        reason="tare again",
    )
    world.refused(
        "rec-a",
        "revision.proposed",
        "format",
        revision="R2",
        entry=seq,
        changes=[{"lot": L1, "colour": "green"}],
        reason="x",
    )
    world.refused(
        "rec-a",
        "revision.proposed",
        "format",
        revision="R2",
        entry=seq + 5,
        changes=[{"lot": L1, "weight_g": 1}],
        reason="x",
    )


def test_lots_are_registered_only_with_label_ids_issued_to_the_collector() -> None:
    world = World()
    mistyped = L1[:-2] + L1[-1] + L1[-2] if L1[-1] != L1[-2] else L1[:-1] + "0"
    error = world.refused("col-a", "lot.registered", "lot-id", **lot_fields(mistyped))
    assert "failed its check character" in error.message
    error = world.refused("col-a", "lot.registered", "lot-id", **lot_fields("LOT-1"))
    assert "must have 9 characters" in error.message
    error = world.refused("col-a", "lot.registered", "lot-id", **lot_fields(LB))
    assert f"lot id {LB} was not issued to col-a" in error.message
    beyond = ids.make("AAAA", 10_000)
    world.refused("col-a", "lot.registered", "lot-id", **lot_fields(beyond))
    world.refused("col-a", "lot.registered", "lot-id", **lot_fields(ids.make("CCCC", 1)))
    error = world.refused("col-a", "lot.registered", "lot-id", **lot_fields(L1.lower()))
    assert "canonical form" in error.message
    world.lot(L1)
    with pytest.raises(VerificationError, match="already exists"):
        world.lot(L1)


def test_label_blocks_are_issued_once_by_the_authority() -> None:
    world = World()
    world.submit(AUTHORITY, "labels.issued", org="col-a", block="CCCC", count=24)
    assert world.doc("labels", "CCCC")["org"] == "col-a"
    world.lot(ids.make("CCCC", 23))
    world.refused("col-a", "lot.registered", "lot-id", **lot_fields(ids.make("CCCC", 24)))
    world.refused(AUTHORITY, "labels.issued", "duplicate", org="col-b", block="CCCC", count=1)
    world.refused("col-a", "labels.issued", "authority-only", org="col-a", block="DDDD", count=1)
    world.refused(AUTHORITY, "labels.issued", "format", org="col-a", block="ZZZZ", count=1)
    world.refused(AUTHORITY, "labels.issued", "format", org="col-a", block="DDDD", count=0)
    world.refused(
        AUTHORITY, "labels.issued", "format", org="col-a", block="DDDD", count=ids.MAX_ISSUE + 1
    )
    world.refused(AUTHORITY, "labels.issued", "registered-org", org="ghost", block="DDDD", count=1)
