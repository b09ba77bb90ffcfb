"""The fields every event shares, and entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.entries import Entry
from ledger.errors import CanonicalEncodingError, EventFormatError, SignatureError
from ledger.events import Submission, make_event, sign_event, validate_event
from ledger.keys import SigningKey

KEY = SigningKey.generate()
AFTER = "ab" * 32


def _event(**changes: Any) -> dict[str, Any]:
    event = make_event(
        "transfer.taken_over",
        log="t.example/log",
        actor="org-1",
        key=KEY,
        transfer="T-1",
        after=AFTER,
    )
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def test_good_event_round_trips() -> None:
    sub = sign_event(KEY, _event())
    sub.verify(KEY.public)
    assert Submission.from_json(sub.to_json()) == sub


@pytest.mark.parametrize(
    "changes",
    [
        {"type": None},
        {"type": "Lot Registered"},
        {"log": ""},
        {"actor": "has space"},
        {"key": "ABC"},
        {"at": "2026-11-22 10:00:00"},
        {"at": "2026-11-22T10:00:00+05:00"},
        {"at": "2026-02-30T10:00:00Z"},
        {"nonce": "short"},
        {"nonce": "x" * 65},
        {"after": None},
        {"after": "AB" * 32},
        {"lots": []},
        {"lots": [{"lot": "L1"}]},
        {"lots": [{"lot": "L1", "after": AFTER}, {"lot": "L1", "after": AFTER}]},
        {"lots": ["L1"]},
    ],
    ids=[
        "no-type",
        "type-form",
        "empty-log",
        "actor-form",
        "key-form",
        "at-no-T",
        "at-not-utc",
        "at-impossible",
        "nonce-short",
        "nonce-long",
        "no-after",
        "after-uppercase",
        "lots-empty",
        "lots-no-after",
        "lots-duplicate",
        "lots-not-objects",
    ],
)
def test_malformed_events(changes: dict[str, Any]) -> None:
    with pytest.raises(EventFormatError):
        validate_event(_event(**changes))


def test_creating_events_need_no_after() -> None:
    event = make_event("lot.registered", log="t.example/log", actor="org-1", key=KEY, lot="L1")
    validate_event(event)


@pytest.mark.parametrize(
    "value",
    [[], {"event": {}}, {"event": {}, "sig": 5}, {"event": {}, "sig": "", "extra": 1}],
    ids=["not-object", "no-sig", "sig-not-string", "extra-field"],
)
def test_malformed_submissions(value: object) -> None:
    with pytest.raises(EventFormatError):
        Submission.from_json(value)


@pytest.mark.parametrize("sig", ["!!", "AAAA"], ids=["not-base64", "too-short"])
def test_malformed_signatures(sig: str) -> None:
    with pytest.raises(SignatureError):
        Submission(_event(), sig).verify(KEY.public)


def test_signing_with_another_key_is_refused() -> None:
    with pytest.raises(EventFormatError):
        sign_event(SigningKey.generate(), _event())


def test_entry_bytes_and_parse() -> None:
    sub = sign_event(KEY, _event())
    entry = Entry.build(seq=3, prev=bytes(32), logged_at="2026-11-22T10:00:01Z", submission=sub)
    assert entry.data.startswith(b'{"event":{')
    assert Entry.parse(entry.data) == entry
    assert entry.to_json()["prev"] == "0" * 64


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.replace(b'"v":1', b'"v":2'),
        lambda d: d.replace(b'"seq":3', b'"seq":-3'),
        lambda d: d.replace(b'"prev":"0', b'"prev":"g'),
        lambda d: d.replace(b'"logged_at":"2026', b'"logged_at":"1026-'),
        lambda d: d[:-1] + b',"x":1}',
    ],
    ids=["version", "negative-seq", "prev-not-hex", "bad-time", "extra-field"],
)
def test_malformed_entries(mangle: Any) -> None:
    sub = sign_event(KEY, _event())
    entry = Entry.build(seq=3, prev=bytes(32), logged_at="2026-11-22T10:00:01Z", submission=sub)
    with pytest.raises(EventFormatError):
        Entry.parse(mangle(entry.data))


def test_leaf_bytes_are_jcs_of_the_whole_entry() -> None:
    from ledger.canonical import canonical_bytes

    event = _event(note='Қабылданды \u2028 "quoted" \\ \U0001f600', weight_g=2**53 - 1)
    sub = sign_event(KEY, event)
    for seq in (0, 7, 10**12):
        entry = Entry.build(
            seq=seq, prev=bytes(range(32)), logged_at="2026-11-22T10:00:01.5Z", submission=sub
        )
        assert entry.data == canonical_bytes(entry.to_json())
        assert Entry.parse(entry.data) == entry


def test_entry_with_non_canonical_event_is_refused() -> None:
    sub = sign_event(KEY, _event())
    entry = Entry.build(seq=1, prev=bytes(32), logged_at="2026-11-22T10:00:01Z", submission=sub)
    after = f'"after":"{AFTER}"'.encode()
    reordered = entry.data.replace(b'"actor":"org-1",' + after, after + b',"actor":"org-1"', 1)
    spaced = entry.data.replace(b'{"event":{', b'{"event": {', 1)
    for variant in (reordered, spaced):
        assert variant != entry.data
        with pytest.raises(CanonicalEncodingError):
            Entry.parse(variant)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.replace(b'"v":1}', b'"v":1,"v":1}'),
        lambda d: d.replace(b'"v":1}', b'"v":1.0}'),
        lambda d: d.replace(b'"seq":3,', b'"seq":3,"seq":3,'),
        lambda d: d.replace(b'"actor":"org-1"', b'"actor":"org-1","actor":"org-1"'),
        lambda d: d.replace(b'"seq":3', b'"seq": 3'),
        lambda d: d[:-1],
    ],
    ids=["duplicate-v", "float-v", "duplicate-seq", "duplicate-in-event", "space", "truncated"],
)
def test_non_canonical_entries(mangle: Any) -> None:
    sub = sign_event(KEY, _event())
    entry = Entry.build(seq=3, prev=bytes(32), logged_at="2026-11-22T10:00:01Z", submission=sub)
    with pytest.raises(CanonicalEncodingError):
        Entry.parse(mangle(entry.data))


def test_utc_now_is_the_current_second_in_rfc_3339(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from ledger import events

    for now in (1_764_871_200.0, 1_764_871_200.99, 1_764_871_201.0, 951_782_400.5):
        monkeypatch.setattr(time, "time", lambda now=now: now)
        expected = datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert events.utc_now() == expected
        assert events.check_time(expected, "at") == expected
