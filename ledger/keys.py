"""Ed25519 keys: generation, PKCS#8 PEM files (mode 0600), public keys and key ids.

A ``key_id`` is the lowercase hex SHA-256 of the 32-byte raw public key. Public
keys travel as standard base64 of those 32 bytes.

A public key signs only if it is a canonical point of the group that
Ed25519's base point generates, as every key a signer makes is. The bare
RFC 8032 check would accept a key of small order: the identity, with the
signature R = identity, S = 0, "signs" every message. Such keys (and points
with a small-order part, which would sign some messages) are refused by
:meth:`PublicKey.verify` and where keys are bound. libsodium (PyNaCl) makes
that point check; ``cryptography`` does the rest.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import KeyFormatError, SignatureError

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
#: Private key files are readable by their owner only.
PRIVATE_KEY_MODE = 0o600


def key_id_of(raw_public_key: bytes) -> str:
    """Lowercase hex SHA-256 of a raw 32-byte Ed25519 public key."""
    if len(raw_public_key) != PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"an Ed25519 public key has 32 bytes, not {len(raw_public_key)}")
    return hashlib.sha256(raw_public_key).hexdigest()


def b64decode_strict(text: str, *, what: str) -> bytes:
    """Decode standard base64 with padding; refuse anything else."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyFormatError(f"{what} is not standard base64") from None


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key."""

    raw: bytes
    _key: Ed25519PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: bytes) -> PublicKey:
        """Build from the 32 raw bytes."""
        if len(raw) != PUBLIC_KEY_SIZE:
            raise KeyFormatError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        return cls(raw, Ed25519PublicKey.from_public_bytes(raw))

    @classmethod
    def from_base64(cls, text: str) -> PublicKey:
        """Build from standard base64 of the 32 raw bytes."""
        return cls.from_raw(b64decode_strict(text, what="public key"))

    @functools.cached_property
    def in_prime_order_group(self) -> bool:
        """Whether the key is a canonical point of the group its base point makes.

        Every key made by an Ed25519 signer is. Checked once per key object
        (it costs about as much as a signature check).
        """
        return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(self.raw))

    @functools.cached_property
    def key_id(self) -> str:
        """Lowercase hex SHA-256 of the raw public key (computed once: every check asks)."""
        return key_id_of(self.raw)

    @property
    def base64(self) -> str:
        """Standard base64 of the raw public key."""
        return base64.b64encode(self.raw).decode("ascii")

    def verify(self, signature: bytes, message: bytes) -> None:
        """Raise :class:`SignatureError` unless ``signature`` is this key's over ``message``."""
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
        if not self.in_prime_order_group:
            raise SignatureError(f"key {self.key_id} is not a key an Ed25519 signer makes")
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise SignatureError(f"signature does not verify with key {self.key_id}") from None


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its public half."""

    _key: Ed25519PrivateKey = field(repr=False, compare=False)
    public: PublicKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key."""
        return cls._wrap(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """A key from its 32-byte RFC 8032 seed (tests and known-answer vectors)."""
        if len(seed) != 32:
            raise KeyFormatError(f"an Ed25519 seed has 32 bytes, not {len(seed)}")
        return cls._wrap(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def _wrap(cls, key: Ed25519PrivateKey) -> SigningKey:
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(key, PublicKey.from_raw(raw))

    @property
    def key_id(self) -> str:
        """Key id of the public half."""
        return self.public.key_id

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature over ``message``."""
        return self._key.sign(message)

    def private_bytes(self) -> bytes:
        """The 32-byte private seed, for deriving other secrets of the same owner."""
        return self._key.private_bytes_raw()

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """Read an unencrypted PKCS#8 PEM Ed25519 key."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFormatError(f"not an unencrypted PKCS#8 PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("the PEM key is not an Ed25519 key")
        return cls._wrap(key)

    def save(self, path: Path) -> None:
        """Write the key as PEM with mode 0600; refuse to overwrite an existing file."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
        except FileExistsError:
            raise KeyFormatError(f"{path} already exists; refusing to overwrite a key") from None
        except OSError as exc:
            raise KeyFormatError(f"cannot create {path}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as out:
            out.write(self.to_pem())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(path, PRIVATE_KEY_MODE)

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """Read a PEM key file."""
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise KeyFormatError(f"cannot read key file {path}: {exc.strerror}") from None
        return cls.from_pem(pem)
