"""GS1 EPCIS 2.0 export: every document validates against the official schema,
and each custody event maps to the EPCIS event the module documents."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from ledger.entries import Entry
from ledger.interop.epcis import EPCIS_CONTEXT, LOST, epcis_document, epcis_events
from ledger.labels.links import Links
from tests.ledger.custody.world import World, lot_id
from tests.protocol_story import play as play_story

VECTORS = Path(__file__).parents[1] / "vectors" / "epcis"
SCHEMA = VECTORS / "EPCIS-JSON-Schema.json"
EXAMPLES = sorted(VECTORS.glob("*.jsonld"))
LINKS = Links("https://tizbek.example")
CREATED = "2026-12-01T09:00:00Z"

ONE, TWO, THREE, FOUR, FIVE, SIX, SEVEN = (lot_id(n) for n in range(1, 8))
PART_A, PART_B, CONTAINER = lot_id(21), lot_id(22), lot_id(30)
RETURNED = lot_id(1, "rec-a")  # a return lot takes a label of the destination's block


@dataclasses.dataclass
class Story:
    """The played world and the entry of each step the tests look at."""

    world: World
    steps: dict[str, Entry]

    def doc(self, kind: str, ident: str) -> dict[str, Any]:
        return self.world.doc(kind, ident)

    @property
    def entries(self) -> list[Entry]:
        return self.world.log.entries

    def history(self, lot: str) -> list[Entry]:
        return [self.entries[seq] for seq in self.doc("lot", lot)["history"]]

    def lots(self) -> list[str]:
        return sorted(ident for kind, ident in self.world.log.state.docs() if kind == "lot")


def play() -> Story:
    """The story of tests/protocol_story.py, plus a partial refusal, keeping the world."""
    world = World()
    steps = play_story(world)
    steps["org_inspected"] = world.submit(
        "insp", "inspection.recorded", target={"kind": "org", "id": "rec-a"}, finding="tidy"
    )

    world.lot(SEVEN)
    world.dispatch("TR-0004", [SEVEN])
    world.take("TR-0004")
    steps["partial"] = world.receive(
        "TR-0004",
        [SEVEN],
        weight_g=182_500,
        outcome="partially_refused",
        reason="a cracked CRT among the monitors",
        refused_weight_g=30_000,
        return_lot=RETURNED,
    )

    return Story(world, steps)


@pytest.fixture(scope="module")
def story() -> Story:
    return play()


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def export(story: Story, entries: list[Entry], links: Links = LINKS) -> dict[str, Any]:
    return epcis_document(entries, story.world.log.state, links, created=CREATED)


def events_of(story: Story, step: str, links: Links = LINKS) -> list[dict[str, Any]]:
    return epcis_events([story.steps[step]], story.world.log.state, links)


def only(story: Story, step: str) -> dict[str, Any]:
    found = events_of(story, step)
    assert len(found) == 1, found
    return found[0]


def altered(entry: Entry, **changes: Any) -> Entry:
    """``entry`` with its event changed (unsigned: only the export reads it)."""
    submission = dataclasses.replace(entry.submission, event={**entry.event, **changes})
    return dataclasses.replace(entry, submission=submission)


def errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def leaf_of(event_id: str) -> bytes:
    """The 32 bytes an ``ni:///sha-256;...?ver=CBV2.0`` eventID names."""
    prefix, suffix = "ni:///sha-256;", "?ver=CBV2.0"
    assert event_id.startswith(prefix), event_id
    digest, _, rest = event_id[len(prefix) :].partition("?")
    assert "?" + rest.split("#")[0] == suffix, event_id
    assert len(digest) == 43, "base64url of 32 bytes, without padding"
    return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))


def kg(story: Story, lot: str, grams: int) -> dict[str, Any]:
    code = story.doc("lot", lot)["waste_code"]
    assert code == "20 01 35*"
    return {
        "epcClass": f"{LINKS.base}/class/20-01-35-hazardous",
        "quantity": grams / 1000,
        "uom": "KGM",
    }


# --- the schema and the validator ---------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gs1_examples_validate(validator: Draft7Validator, path: Path) -> None:
    assert errors(validator, json.loads(path.read_text())) == []


def test_the_vectors_are_all_there() -> None:
    assert len(EXAMPLES) == 5
    assert (VECTORS / "SOURCE.md").exists()


def test_the_checker_enforces_uris(story: Story, validator: Draft7Validator) -> None:
    document = export(story, story.history(ONE))
    assert errors(validator, document) == []
    bad_id = copy.deepcopy(document)
    bad_id["epcisBody"]["eventList"][0]["eventID"] = "not a uri"
    assert errors(validator, bad_id)
    bad_epc = copy.deepcopy(document)
    bad_epc["epcisBody"]["eventList"][0]["epcList"] = ["no scheme"]
    assert errors(validator, bad_epc)


def _drop_event_time(document: dict[str, Any]) -> None:
    del document["epcisBody"]["eventList"][0]["eventTime"]


def _wrong_document_type(document: dict[str, Any]) -> None:
    document["type"] = "EPCISDoc"


def _wrong_event_type(document: dict[str, Any]) -> None:
    document["epcisBody"]["eventList"][0]["type"] = "Objectevent"


def _bad_action(document: dict[str, Any]) -> None:
    document["epcisBody"]["eventList"][0]["action"] = "MOVE"


def _bad_extension_name(document: dict[str, Any]) -> None:
    document["epcisBody"]["eventList"][0]["leafHash"] = "00"


@pytest.mark.parametrize(
    "breaks",
    [_drop_event_time, _wrong_document_type, _wrong_event_type, _bad_action, _bad_extension_name],
)
def test_broken_documents_fail(
    story: Story, validator: Draft7Validator, breaks: Callable[[dict[str, Any]], None]
) -> None:
    document = export(story, story.history(ONE))
    assert document["epcisBody"]["eventList"][0]["type"] == "ObjectEvent"
    breaks(document)
    assert errors(validator, document)


# --- whole documents ----------------------------------------------------------------------------


def test_every_lot_history_validates(story: Story, validator: Draft7Validator) -> None:
    lots = story.lots()
    assert {ONE, TWO, PART_A, PART_B, CONTAINER, FOUR, FIVE, SIX, SEVEN, RETURNED} <= set(lots)
    for lot in lots:
        document = export(story, story.history(lot))
        assert errors(validator, document) == [], lot
        assert document["epcisBody"]["eventList"], lot


def test_the_whole_log_validates(story: Story, validator: Draft7Validator) -> None:
    document = export(story, story.entries)
    assert errors(validator, document) == []
    assert document["@context"] == [EPCIS_CONTEXT, {"tizbek": "https://tizbek.kz/epcis/"}]
    assert document["type"] == "EPCISDocument"
    assert document["schemaVersion"] == "2.0"
    assert document["creationDate"] == CREATED
    events = document["epcisBody"]["eventList"]
    assert {e["type"] for e in events} == {"ObjectEvent", "AggregationEvent", "TransformationEvent"}
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids)


def test_every_event_traces_back_to_its_entry(story: Story) -> None:
    by_seq = {entry.seq: entry for entry in story.entries}
    events = epcis_events(story.entries, story.world.log.state, LINKS)
    assert len({e["tizbek:seq"] for e in events}) > 15
    for event in events:
        entry = by_seq[event["tizbek:seq"]]
        assert event["tizbek:leafHash"] == entry.hash.hex()
        assert leaf_of(event["eventID"]) == entry.hash
        assert event["eventTime"] == entry.event["at"]
        assert event["recordTime"] == entry.logged_at
        assert event["eventTimeZoneOffset"] == "+00:00"
        actor = f"{LINKS.base}/org/{entry.event['actor']}"
        assert event["readPoint"] == event["bizLocation"] == {"id": actor}


def test_entries_without_epcis_meaning_give_nothing(story: Story) -> None:
    skipped = [
        e
        for e in story.entries
        if e.event["type"].split(".")[0] in {"log", "org", "license", "key", "labels", "revision"}
    ]
    assert len(skipped) > 20
    assert epcis_events(skipped, story.world.log.state, LINKS) == []
    assert events_of(story, "resolved") == []
    assert events_of(story, "org_inspected") == []


def test_an_unknown_event_type_is_an_error(story: Story) -> None:
    odd = altered(story.steps["lost"], type="lot.teleported")
    with pytest.raises(ValueError, match=r"lot\.teleported"):
        epcis_events([odd], story.world.log.state, LINKS)


# --- the mapping, event by event ----------------------------------------------------------------


def test_registration(story: Story) -> None:
    event = only(story, "registered")
    assert event["type"] == "ObjectEvent"
    assert (event["action"], event["bizStep"], event["disposition"]) == (
        "ADD",
        "collecting",
        "in_progress",
    )
    assert event["epcList"] == [f"{LINKS.base}/l/{ONE}"]
    assert event["quantityList"] == [kg(story, ONE, 182_500)]


def test_dispatch(story: Story) -> None:
    event = only(story, "dispatched")
    assert (event["action"], event["bizStep"], event["disposition"]) == (
        "OBSERVE",
        "shipping",
        "in_transit",
    )
    assert event["epcList"] == [f"{LINKS.base}/l/{ONE}"]
    assert event["sourceList"] == [{"type": "owning_party", "source": f"{LINKS.base}/org/col-a"}]
    assert event["destinationList"] == [
        {"type": "owning_party", "destination": f"{LINKS.base}/org/rec-a"}
    ]


def test_take_over(story: Story) -> None:
    event = only(story, "taken_over")
    assert (event["bizStep"], event["disposition"]) == ("transporting", "in_transit")
    assert event["epcList"] == [f"{LINKS.base}/l/{ONE}"]
    assert event["sourceList"] == [
        {"type": "possessing_party", "source": f"{LINKS.base}/org/col-a"}
    ]
    assert event["destinationList"] == [
        {"type": "possessing_party", "destination": f"{LINKS.base}/org/trans-a"}
    ]


def test_receipt_with_a_weight_difference_is_a_quantity_mismatch(story: Story) -> None:
    event = only(story, "short")
    assert (event["bizStep"], event["disposition"]) == ("accepting", "mismatch_quantity")
    assert event["quantityList"] == [kg(story, FIVE, 150_000)]
    assert event["sourceList"] == [
        {"type": "possessing_party", "source": f"{LINKS.base}/org/trans-a"}
    ]
    assert event["destinationList"] == [
        {"type": "possessing_party", "destination": f"{LINKS.base}/org/rec-a"}
    ]


def test_receipt_of_the_declared_weight_is_in_progress(story: Story) -> None:
    kept = events_of(story, "partial")[0]  # 182.5 kg measured, 182.5 kg declared
    assert (kept["bizStep"], kept["disposition"]) == ("accepting", "in_progress")
    # Any difference is a mismatch, even one below the log's discrepancy threshold.
    close = only(story, "received")  # 181.9 kg measured, 182.5 kg declared
    assert story.doc("lot", ONE)["discrepancy"] is None
    assert (close["bizStep"], close["disposition"]) == ("accepting", "mismatch_quantity")


def test_partial_refusal_returns_a_new_lot(story: Story) -> None:
    kept, returned = events_of(story, "partial")
    assert kept["epcList"] == [f"{LINKS.base}/l/{SEVEN}"]
    assert kept["quantityList"] == [kg(story, SEVEN, 152_500)]
    assert (returned["action"], returned["bizStep"], returned["disposition"]) == (
        "ADD",
        "receiving",
        "returned",
    )
    assert returned["epcList"] == [f"{LINKS.base}/l/{RETURNED}"]
    assert returned["quantityList"] == [kg(story, SEVEN, 30_000)]
    assert returned["destinationList"] == [
        {"type": "possessing_party", "destination": f"{LINKS.base}/org/col-a"}
    ]
    assert kept["eventID"] != returned["eventID"]
    assert leaf_of(kept["eventID"]) == leaf_of(returned["eventID"]) == story.steps["partial"].hash


def test_merge_is_an_aggregation(story: Story) -> None:
    event = only(story, "merged")
    assert event["type"] == "AggregationEvent"
    assert (event["action"], event["bizStep"]) == ("ADD", "packing")
    assert event["parentID"] == f"{LINKS.base}/l/{CONTAINER}"
    assert event["childEPCs"] == [f"{LINKS.base}/l/{PART_A}", f"{LINKS.base}/l/{THREE}"]


def test_split_is_a_transformation(story: Story) -> None:
    event = only(story, "split")
    assert event["type"] == "TransformationEvent"
    assert event["inputEPCList"] == [f"{LINKS.base}/l/{TWO}"]
    assert event["outputEPCList"] == [f"{LINKS.base}/l/{PART_A}", f"{LINKS.base}/l/{PART_B}"]


def test_processing_is_a_transformation(story: Story) -> None:
    event = only(story, "processed")
    assert event["type"] == "TransformationEvent"
    assert event["bizStep"] == "disassembling"
    assert event["tizbek:operation"] == "R4"
    assert event["inputEPCList"] == [f"{LINKS.base}/l/{ONE}"]
    quantities = event["outputQuantityList"]
    assert [q["epcClass"] for q in quantities] == [
        f"{LINKS.base}/class/19-12-02/ferrous",
        f"{LINKS.base}/class/19-12-04/plastics",
        f"{LINKS.base}/class/16-02-15-hazardous/circuit_boards",
    ]
    assert {q["uom"] for q in quantities} == {"KGM"}
    total_g = sum(out["weight_g"] for out in story.steps["processed"].event["outputs"])
    assert round(sum(q["quantity"] for q in quantities) * 1000) == total_g == 131_500


def test_a_disposal_operation_is_destroying(story: Story) -> None:
    odd = altered(story.steps["processed"], operation="D10")
    (found,) = epcis_events([odd], story.world.log.state, LINKS)
    assert found["bizStep"] == "destroying"


def test_loss(story: Story) -> None:
    event = only(story, "lost")
    assert (event["action"], event["disposition"]) == ("OBSERVE", LOST)
    assert LOST == "https://tizbek.kz/epcis/disposition/lost"
    assert event["epcList"] == [f"{LINKS.base}/l/{FOUR}"]


def test_inspection_of_a_lot(story: Story) -> None:
    event = only(story, "inspected")
    assert (event["action"], event["bizStep"]) == ("OBSERVE", "inspecting")
    assert event["epcList"] == [f"{LINKS.base}/l/{FIVE}"]


def test_epcs_are_gs1_digital_links(story: Story, validator: Draft7Validator) -> None:
    links = Links("https://id.tizbek.kz", "9520123")
    document = export(story, story.entries, links)
    assert errors(validator, document) == []
    (event,) = events_of(story, "registered", links)
    assert event["epcList"] == [f"https://id.tizbek.kz/8004/9520123{ONE}"]
    (merged,) = events_of(story, "merged", links)
    assert merged["parentID"] == f"https://id.tizbek.kz/8004/9520123{CONTAINER}"
    assert merged["childEPCs"] == [
        f"https://id.tizbek.kz/8004/9520123{PART_A}",
        f"https://id.tizbek.kz/8004/9520123{THREE}",
    ]
