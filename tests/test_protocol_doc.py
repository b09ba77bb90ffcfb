"""docs/protocol.md documents every event type the rules know, each with an example submission."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ledger.custody.rules import EVENT_TYPES
from ledger.events import Submission
from ledger.labels import ids
from tests.protocol_story import story

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def test_every_event_type_has_a_section_and_a_valid_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = re.split(r"^#### `([a-z_.]+)`$", text, flags=re.MULTILINE)
    documented = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert set(documented) == set(EVENT_TYPES)
    for etype, body in documented.items():
        assert "Refused:" in body, etype
        example = re.search(r"```json\n(.*?)\n```", body, flags=re.DOTALL)
        assert example is not None, etype
        submission = Submission.from_json(json.loads(example.group(1)))
        assert submission.event["type"] == etype
        if etype == "lot.registered":
            assert ids.is_lot_id(submission.event["lot"])


def test_the_examples_come_from_a_story_the_rules_accept() -> None:
    examples = story()
    text = DOC.read_text(encoding="utf-8")
    assert set(re.findall(r"^#### `([a-z_.]+)`$", text, flags=re.MULTILINE)) <= set(examples)
