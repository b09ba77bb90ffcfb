"""Ed25519 keys, key ids and PEM files."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from ledger.errors import KeyFormatError, SignatureError
from ledger.keys import PublicKey, SigningKey, key_id_of

# RFC 8032 §7.1 test 1.
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8032_known_answer_and_key_id() -> None:
    key = SigningKey.from_seed(SEED)
    assert key.public.raw == PUBLIC
    assert key.sign(b"") == SIGNATURE
    assert key.key_id == hashlib.sha256(PUBLIC).hexdigest() == key_id_of(PUBLIC)
    key.public.verify(SIGNATURE, b"")
    with pytest.raises(SignatureError):
        key.public.verify(SIGNATURE, b"x")
    with pytest.raises(SignatureError):
        key.public.verify(SIGNATURE[:63], b"")


#: The order of the base point (RFC 8032 §5.1).
ORDER = 2**252 + 27742317777372353535851937790883648493
#: Points of small order: the identity, the point of order 2, the two of order 4.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
]


@pytest.mark.parametrize("point", SMALL_ORDER)
def test_a_key_of_small_order_signs_nothing(point: str) -> None:
    # With R the identity and S = 0, the bare equation [S]B = R + [k]A holds for the
    # identity key on every message, and for the others on many: a key anyone could
    # "sign" with. Such keys are refused, whatever the signature.
    key = PublicKey.from_raw(bytes.fromhex(point))
    assert not key.in_prime_order_group
    assert PublicKey.from_raw(PUBLIC).in_prime_order_group
    for sig in (bytes.fromhex(SMALL_ORDER[0]) + bytes(32), bytes.fromhex(point) + bytes(32)):
        for message in (b"", b"a lot of 120 kg", b"x" * 1000):
            with pytest.raises(SignatureError):
                key.verify(sig, message)


def test_an_s_beyond_the_group_order_is_refused() -> None:
    # S + L satisfies the same equation: a second signature made from a good one,
    # without the key. Only the canonical S verifies.
    s = int.from_bytes(SIGNATURE[32:], "little")
    twin = SIGNATURE[:32] + (s + ORDER).to_bytes(32, "little")
    public = PublicKey.from_raw(PUBLIC)
    public.verify(SIGNATURE, b"")
    with pytest.raises(SignatureError):
        public.verify(twin, b"")


def test_a_key_not_on_the_curve_verifies_nothing() -> None:
    # y = 2 has no x on the curve.
    key = PublicKey.from_raw((2).to_bytes(32, "little"))
    with pytest.raises(SignatureError):
        key.verify(SIGNATURE, b"")


def test_pem_round_trip_with_mode_0600(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "org.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert SigningKey.load(path).key_id == key.key_id
    with pytest.raises(KeyFormatError, match="already exists"):
        SigningKey.generate().save(path)
    assert SigningKey.load(path).key_id == key.key_id


@pytest.mark.parametrize(
    "pem", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]
)
def test_bad_pem_is_refused(pem: bytes) -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_pem(pem)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="cannot read"):
        SigningKey.load(tmp_path / "absent.key")


@pytest.mark.parametrize("text", ["", "AAAA", "!!!!", "A" * 48], ids=str)
def test_bad_public_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey.from_base64(text)
