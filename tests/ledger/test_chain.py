"""Replay rules, checked when a submission is appended and on every audit."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.demo import AUTHORITY_ID, DemoLog, demo_lot, lot_fields
from ledger.errors import EventFormatError, VerificationError
from ledger.events import Submission, make_event, sign_event
from ledger.genesis import make_genesis, read_genesis
from ledger.keys import PublicKey, SigningKey
from ledger.note import NoteSigner


def _collector_registers(demo: DemoLog, lot: str) -> Submission:
    """The demo collector's signed registration of ``lot``."""
    key = demo.keys["almaty-collect"]
    event = make_event(
        "lot.registered", log=demo.log.origin, actor="almaty-collect", key=key, **lot_fields(lot)
    )
    return sign_event(key, event)


def _refused(demo: DemoLog, check: str, key: SigningKey, **event: Any) -> VerificationError:
    size = demo.log.size
    etype = event.pop("type", "lot.registered")
    actor = event.pop("actor", "almaty-collect")
    log = event.pop("log", demo.log.origin)
    sub = sign_event(key, make_event(etype, log=log, actor=actor, key=key, **event))
    with pytest.raises(VerificationError) as caught:
        demo.log.append(sub)
    assert caught.value.check == check, caught.value.message
    assert caught.value.seq == size
    assert demo.log.size == size  # nothing was appended
    return caught.value


def test_wrong_log_is_refused(demo: DemoLog) -> None:
    _refused(demo, "format", demo.keys["almaty-collect"], log="other.example/log", lot="L2")


def test_key_of_another_actor_is_refused(demo: DemoLog) -> None:
    _refused(demo, "key", demo.keys["steppe-haulage"], lot="L2")


def test_unbound_key_is_refused(demo: DemoLog) -> None:
    _refused(demo, "key", SigningKey.generate(), lot="L2")


def test_revoked_key_is_refused(demo: DemoLog) -> None:
    key = demo.keys["almaty-collect"]
    demo.submit("key.revoked", AUTHORITY_ID, key_id=key.key_id, reason="phone lost")
    error = _refused(demo, "key", key, lot="L2")
    assert "revoked at seq" in error.message


def test_bad_signature_is_refused(demo: DemoLog) -> None:
    sub = _collector_registers(demo, "L2")
    sub.event["lot"] = "L3"  # changed after signing
    with pytest.raises(VerificationError, match="signature"):
        demo.log.append(sub)


def test_genesis_only_at_zero(demo: DemoLog) -> None:
    _refused(demo, "format", demo.authority, type="log.genesis", actor=AUTHORITY_ID)


def test_registry_events_need_the_authority(demo: DemoLog) -> None:
    other = SigningKey.generate()
    _refused(
        demo,
        "registry",
        demo.keys["almaty-collect"],
        type="key.bound",
        org="almaty-collect",
        public_key=other.public.base64,
        key_id=other.key_id,
        label="self-bound",
    )


def _binding_refused(demo: DemoLog, public_key: str, key_id: str) -> VerificationError:
    """The authority's ``key.bound`` of this key for the demo collector, refused."""
    return _refused(
        demo,
        "registry",
        demo.authority,
        type="key.bound",
        actor=AUTHORITY_ID,
        org="almaty-collect",
        public_key=public_key,
        key_id=key_id,
        label="refused",
    )


def test_key_bound_with_mismatched_id(demo: DemoLog) -> None:
    _binding_refused(demo, SigningKey.generate().public.base64, "0" * 64)


@pytest.mark.parametrize(
    "raw",
    [
        # the identity, which "signs" every message with R = identity, S = 0
        bytes([1]) + bytes(31),
        # an honest key plus the point of order 2: it would sign only some messages
        None,
    ],
)
def test_key_bound_outside_the_prime_order_group(demo: DemoLog, raw: bytes | None) -> None:
    if raw is None:
        raw = _plus_order_two(SigningKey.generate().public.raw)
    key = PublicKey.from_raw(raw)
    failure = _binding_refused(demo, key.base64, key.key_id)
    assert "not a key an Ed25519 signer makes" in failure.message


def _plus_order_two(raw: bytes) -> bytes:
    """``raw`` + (0, -1): the same point with x and y negated, i.e. y -> p - y, sign flipped."""
    p = 2**255 - 19
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    return ((p - y) | ((sign ^ 1) << 255)).to_bytes(32, "little")


def test_lot_cannot_be_created_twice(demo: DemoLog) -> None:
    _refused(demo, "reference", demo.keys["almaty-collect"], lot=demo_lot(0))


def test_after_must_name_the_latest_entry(demo: DemoLog) -> None:
    stale = demo.log.entries[5].hash.hex()  # the dispatch, superseded by the take-over
    _refused(
        demo,
        "reference",
        demo.keys["steppe-haulage"],
        type="transfer.taken_over",
        actor="steppe-haulage",
        transfer="TR-DEMO-1",
        after=stale,
    )


def test_unknown_subject_is_refused(demo: DemoLog) -> None:
    _refused(
        demo,
        "reference",
        demo.keys["steppe-haulage"],
        type="transfer.taken_over",
        actor="steppe-haulage",
        transfer="TR-NOPE",
        after="0" * 64,
    )


def test_same_submission_twice_is_idempotent(demo: DemoLog) -> None:
    sub = _collector_registers(demo, demo_lot(9))
    first = demo.log.append(sub)
    again = demo.log.append(sub)
    assert again == first
    assert demo.log.size == first.seq + 1


def test_reused_nonce_with_other_content_is_refused(demo: DemoLog) -> None:
    key = demo.keys["almaty-collect"]
    first = _collector_registers(demo, demo_lot(9))
    demo.log.append(first)
    replay = dict(first.event, lot="L10")
    with pytest.raises(EventFormatError, match="nonce"):
        demo.log.append(sign_event(key, replay))


def test_logged_at_never_goes_back(demo: DemoLog) -> None:
    demo.log._clock = lambda: "2000-01-01T00:00:00Z"
    entry = demo.log.append(_collector_registers(demo, demo_lot(9)))
    assert entry.logged_at == demo.log.entries[entry.seq - 1].logged_at


def test_check_changes_nothing_until_apply(demo: DemoLog) -> None:
    from ledger.chain import ChainVerifier

    verifier = ChainVerifier()
    genesis = demo.log.entries[0]
    verifier.check(genesis)
    assert (verifier.genesis, verifier.last, verifier.count) == (None, None, 0)
    verifier.apply(genesis)
    assert verifier.genesis is not None
    for entry in demo.log.entries[1:]:
        verifier.add(entry)
    assert verifier.count == demo.log.size


def test_genesis_with_an_authority_key_of_small_order_is_refused() -> None:
    authority = SigningKey.generate()
    log_key = NoteSigner("tizbek.example/test", SigningKey.generate()).verifier
    identity = PublicKey.from_raw(bytes([1]) + bytes(31))
    good = make_genesis(
        authority, origin=log_key.name, log_key=log_key, authority_id="a", authority_name="A"
    )
    assert read_genesis(good.event).authority_id == "a"
    bad = make_genesis(
        authority,
        origin=log_key.name,
        log_key=log_key,
        authority_id="a",
        authority_name="A",
        more_authority_keys=(identity,),
    )
    with pytest.raises(EventFormatError, match="not a key an Ed25519 signer makes"):
        read_genesis(bad.event)
