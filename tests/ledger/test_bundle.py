"""Offline audit bundles: verification and tamper evidence."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from ledger.bundle import verify_bundle
from ledger.demo import DemoLog
from ledger.entries import parse_entry_text
from ledger.errors import BundleFormatError, VerificationError
from ledger.keys import SigningKey
from ledger.note import NoteSigner


def _fails_at(bundle: Any, seq: int | None, check: str | None = None) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle)
    assert caught.value.seq == seq, caught.value.message
    if check is not None:
        assert caught.value.check == check, caught.value.message
    return caught.value


def test_whole_log_bundle_verifies(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    report = verify_bundle(json.loads(json.dumps(bundle)))
    assert report.entries == demo.log.size == 18
    assert report.kind == "log"
    assert report.consistency_checked == 3
    assert report.log_key == str(demo.log.signer.verifier)
    assert "OK: 18 entries" in report.summary()


def test_sparse_bundle_verifies(demo: DemoLog) -> None:
    bundle = demo.log.bundle([9])
    report = verify_bundle(bundle)
    assert report.kind == "entries"
    # Entry 0 and the binding of the collector's key (seq 5) come along.
    assert [e["seq"] for e in bundle["entries"]] == [0, 5, 9]
    assert (report.entries, report.first_seq, report.last_seq) == (3, 0, 9)


def _flip(text: str, position: int) -> str:
    raw = bytearray(text.encode())
    raw[position] ^= 0x01
    return raw.decode()


def _positions(leaf: bytes, rng: random.Random) -> list[int]:
    """Every byte of the leaf's JSON structure (quotes, braces, colons, commas: a flip
    there breaks parsing, not only the signature) and a sample of the other bytes."""
    structure = [i for i, byte in enumerate(leaf) if byte in b'{}[]":,']
    others = [i for i in range(len(leaf)) if i not in set(structure)]
    return sorted(structure + rng.sample(others, min(40, len(others))))


def test_flipping_any_byte_of_any_entry_names_that_entry(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    rng = random.Random(20261202)
    for item in bundle["entries"]:
        leaf = item["leaf"]
        for position in _positions(leaf.encode(), rng):
            # Only the one leaf changes: share the rest of the bundle instead of copying it.
            entries = list(bundle["entries"])
            entries[item["seq"]] = {**item, "leaf": _flip(leaf, position)}
            _fails_at({**bundle, "entries": entries}, item["seq"])


def test_flipping_a_proof_hash_names_that_entry(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    for item in bundle["entries"]:
        tampered = copy.deepcopy(bundle)
        proof = tampered["entries"][item["seq"]]["proof"]
        proof[-1] = ("0" if proof[-1][0] != "0" else "1") + proof[-1][1:]
        _fails_at(tampered, item["seq"], "proof")


@pytest.mark.parametrize(("i", "j"), [(0, 1), (2, 5), (6, 7)])
def test_reordering_names_the_displaced_entry(demo: DemoLog, i: int, j: int) -> None:
    bundle = demo.log.bundle()
    items = bundle["entries"]
    items[i], items[j] = items[j], items[i]
    _fails_at(bundle, i, "order")


@pytest.mark.parametrize("seq", range(18))
def test_dropping_an_entry_names_it(demo: DemoLog, seq: int) -> None:
    bundle = demo.log.bundle()
    del bundle["entries"][seq]
    _fails_at(bundle, seq, "order")


def test_dropping_an_entry_of_a_lot_from_a_sparse_bundle(demo: DemoLog) -> None:
    # The receipt's `after` names the dispatch (seq 10); without it the lot's history has a hole.
    bundle = demo.log.bundle([9, 10, 11, 12])
    index = [e["seq"] for e in bundle["entries"]].index(10)
    del bundle["entries"][index]
    error = _fails_at(bundle, 12, "reference")
    assert "latest entry about" in error.message


def test_inserting_a_copy_names_it(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    bundle["entries"].insert(4, copy.deepcopy(bundle["entries"][3]))
    _fails_at(bundle, 3, "order")


def test_inserting_a_forged_entry_names_it(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    last = parse_entry_text(bundle["entries"][-1]["leaf"])
    forged = json.loads(bundle["entries"][-1]["leaf"])
    forged["seq"] = last.seq + 1
    forged["prev"] = last.hash.hex()
    from ledger.canonical import canonical_bytes

    bundle["entries"].append(
        {"seq": last.seq + 1, "leaf": canonical_bytes(forged).decode(), "proof": []}
    )
    _fails_at(bundle, last.seq + 1, "order")


def test_entry_from_another_log_in_a_sparse_bundle(demo: DemoLog) -> None:
    # Entry 11 slipped into a bundle of entry 9 with a proof that is not its own.
    bundle = demo.log.bundle([9])
    other = demo.log.bundle([11])
    bundle["entries"].append(other["entries"][-1])
    bundle["entries"][-1]["proof"] = bundle["entries"][-2]["proof"]
    _fails_at(bundle, 11, "proof")


def test_checkpoint_signed_by_another_key(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    intruder = NoteSigner(demo.log.origin, SigningKey.generate())
    text = bundle["checkpoint"].split("\n\n")[0] + "\n"
    from ledger.note import sign_note

    bundle["checkpoint"] = sign_note(text, [intruder])
    _fails_at(bundle, None, "checkpoint")
    # Swapping in the intruder's key too is caught by the authority-signed genesis entry.
    bundle["log_key"] = str(intruder.verifier)
    _fails_at(bundle, 0, "checkpoint")


def test_pinned_log_key(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    verify_bundle(bundle, log_key=demo.log.signer.verifier)
    stranger = NoteSigner(demo.log.origin, SigningKey.generate()).verifier
    with pytest.raises(VerificationError, match="not the trusted one"):
        verify_bundle(bundle, log_key=stranger)


def test_stale_older_checkpoint_from_a_fork_fails(demo: DemoLog) -> None:
    bundle = demo.log.bundle()
    bundle["consistency"][0]["proof"] = bundle["consistency"][1]["proof"]
    _fails_at(bundle, None, "consistency")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.pop("checkpoint"),
        lambda b: b.update(format="other/1"),
        lambda b: b.update(kind="lot"),
        lambda b: b.update(entries=[]),
        lambda b: b.update(log_key="nonsense"),
    ],
    ids=["no-checkpoint", "format", "kind", "no-entries", "log-key"],
)
def test_malformed_bundles(demo: DemoLog, mangle: Any) -> None:
    bundle = demo.log.bundle()
    mangle(bundle)
    with pytest.raises(BundleFormatError):
        verify_bundle(bundle)


@pytest.mark.parametrize(
    "bad",
    ["AB" * 32, "ab" * 31, "ab" * 33, " " + "ab" * 32, 5, None],
    ids=["uppercase", "short", "long", "space", "number", "null"],
)
def test_malformed_proof_hashes_name_the_entry(demo: DemoLog, bad: object) -> None:
    bundle = demo.log.bundle()
    bundle["entries"][3]["proof"][0] = bad
    _fails_at(bundle, 3, "proof")
