"""One custody story that plays every registry and custody event once.

docs/protocol.md §11 shows its first submission of each event type
(``scripts/protocol_examples.py`` rewrites them); the tests play it again to
hold the rules and the document together.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.entries import Entry
from tests.ledger.custody.world import AUTHORITY, OUTPUTS, World, lot_id


def play(world: World) -> dict[str, Entry]:
    """Play the story in ``world``; return its notable entries by name."""
    one, two, three, four, five, six = (lot_id(n) for n in range(1, 7))
    part_a, part_b, container = lot_id(21), lot_id(22), lot_id(30)
    steps: dict[str, Entry] = {}

    steps["registered"] = world.lot(one)
    steps["dispatched"] = world.dispatch("TR-0001", [one])
    steps["taken_over"] = world.take("TR-0001")
    steps["received"] = world.receive("TR-0001", [one])
    steps["processed"] = world.process(one, outputs=OUTPUTS, operation="R4")

    world.lot(two)
    steps["split"] = world.submit(
        "col-a",
        "lot.split",
        lot=two,
        after=world.head("lot", two),
        children=[
            {"lot": part_a, "weight_g": 100_000, "items": 20},
            {"lot": part_b, "weight_g": 82_500, "items": 20},
        ],
    )
    world.lot(three)
    steps["merged"] = world.submit(
        "col-a",
        "lot.merged",
        into=container,
        lots=[
            {"lot": part_a, "after": world.head("lot", part_a)},
            {"lot": three, "after": world.head("lot", three)},
        ],
    )
    world.lot(four)
    steps["lost"] = world.submit(
        "col-a",
        "lot.lost",
        lot=four,
        after=world.head("lot", four),
        reason="stolen from the depot yard",
    )

    world.lot(five)
    world.dispatch("TR-0002", [five])
    world.take("TR-0002")
    steps["short"] = world.receive("TR-0002", [five], weight_g=150_000)
    steps["inspected"] = world.submit(
        "insp",
        "inspection.recorded",
        target={"kind": "lot", "id": five},
        finding="rain cover still on the pallet at weighing",
    )
    world.submit(
        "rec-a",
        "revision.proposed",
        revision="REV-0001",
        entry=steps["short"].seq,
        changes=[{"lot": five, "weight_g": 180_000}],
        reason="weighed with the rain cover on",
    )
    world.submit("col-a", "revision.approved", revision="REV-0001")

    world.lot(six, weight_g=120_000)
    world.dispatch("TR-0003", [six], weight_g=120_000)
    world.take("TR-0003")
    world.receive("TR-0003", [six], weight_g=60_000)
    steps["resolved"] = world.submit(
        "insp",
        "discrepancy.resolved",
        subject_lot=six,
        resolution="half the lot was left at the depot; collector fined",
    )

    world.submit(AUTHORITY, "org.updated", org="col-b", region="Almaty Region")
    world.submit(
        AUTHORITY,
        "license.suspended",
        org="rec-b",
        license="LIC-B",
        reason="inspection found unlicensed storage",
    )
    world.submit(
        AUTHORITY,
        "license.revoked",
        org="rec-b",
        license="LIC-B",
        reason="storage not remedied in 30 days",
    )
    world.submit(AUTHORITY, "org.deregistered", org="col-b", reason="ceased trading")
    lost = world.bind("trans-b")
    world.submit(AUTHORITY, "key.revoked", key_id=lost.key_id, reason="tablet lost")
    return steps


def story() -> dict[str, dict[str, Any]]:
    """The first submission of every event type in the story, by type."""
    world = World()
    play(world)
    examples: dict[str, dict[str, Any]] = {}
    for entry in world.log.entries[1:]:
        leaf = json.loads(entry.data)
        examples.setdefault(leaf["event"]["type"], {"event": leaf["event"], "sig": leaf["sig"]})
    return examples
