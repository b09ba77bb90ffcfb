"""C2SP signed notes and checkpoints."""

from __future__ import annotations

import base64

import pytest

from ledger.checkpoint import Checkpoint, check_consistent, sign_checkpoint, verify_checkpoint
from ledger.errors import InconsistentCheckpointError, KeyFormatError, NoteError
from ledger.keys import SigningKey
from ledger.merkle import consistency_proof, leaf_hash, root_hash
from ledger.note import NoteSigner, VerifierKey, open_note, parse_note, sign_note

# The example of c2sp.org/signed-note.
SPEC_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZX"
    "sYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# Known answer from the documentation of Go's golang.org/x/mod/sumdb/note (data only): its
# private key string PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV… holds this 32-byte seed.
PETER_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_NOTE = (
    PETER_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
    "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_spec_example_verifies() -> None:
    key = VerifierKey.parse(SPEC_KEY)
    assert str(key) == SPEC_KEY
    assert key.hash.hex() == "530d903a"
    text, names = open_note(SPEC_NOTE, [key])
    assert text == "This is an example message.\n"
    assert names == ["example.com/foo"]


@pytest.mark.parametrize("position", range(len(SPEC_NOTE.encode())))
def test_spec_example_with_any_byte_changed_fails(position: int) -> None:
    raw = bytearray(SPEC_NOTE.encode())
    raw[position] ^= 0x01
    key = VerifierKey.parse(SPEC_KEY)
    try:
        note = raw.decode()
    except UnicodeDecodeError:
        return  # not even text: nothing to verify
    with pytest.raises(NoteError):
        open_note(note, [key])


def test_signing_reproduces_the_go_known_answer() -> None:
    signer = NoteSigner("PeterNeumann", SigningKey.from_seed(PETER_SEED))
    assert (
        str(signer.verifier) == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    assert sign_note(PETER_TEXT, [signer]) == PETER_NOTE


def test_unknown_keys_are_ignored_known_bad_rejects() -> None:
    a = NoteSigner("log.example/a", SigningKey.generate())
    b = NoteSigner("log.example/b", SigningKey.generate())
    note = sign_note("hello\n", [a, b])
    assert open_note(note, [a.verifier])[1] == ["log.example/a"]
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [NoteSigner("log.example/c", SigningKey.generate()).verifier])
    # Same name and key hash but another key: a known key whose signature fails.
    forged = note.replace(note.split("\n")[-2], b.signature_line("other\n").rstrip("\n"))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [a.verifier, b.verifier])


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 a AAAA\n",
        "text\n\n- a AAAAAAAA\n",
        "text\n\n\u2014 a !!!!\n",
        "text\n\n\u2014 a AAAA",
        "te\x07xt\n\n\u2014 a AAAAAAAA\n",
        "text\n\n\u2014 a+b AAAAAAAA\n",
    ],
    ids=[
        "no-blank",
        "ascii-dash",
        "not-base64",
        "no-final-newline",
        "control-char",
        "plus-in-name",
    ],
)
def test_malformed_notes(note: str) -> None:
    with pytest.raises(NoteError):
        parse_note(note)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "example.com/foo",
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
    ids=["empty", "no-parts", "wrong-hash", "wrong-type", "space-in-name"],
)
def test_malformed_verifier_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        VerifierKey.parse(text)


def _tree(n: int) -> list[bytes]:
    return [leaf_hash(bytes([i])) for i in range(n)]


def test_checkpoint_round_trip() -> None:
    signer = NoteSigner("tizbek.example/log", SigningKey.generate())
    cp = Checkpoint("tizbek.example/log", 5, root_hash(_tree(5)))
    note = sign_checkpoint(signer, cp, previous=None)
    assert note.startswith(f"tizbek.example/log\n5\n{base64.b64encode(cp.root).decode()}\n\n")
    assert verify_checkpoint(note, signer.verifier) == cp
    other = NoteSigner("tizbek.example/log", SigningKey.generate())
    with pytest.raises(NoteError):
        verify_checkpoint(note, other.verifier)


def test_log_refuses_inconsistent_checkpoints() -> None:
    signer = NoteSigner("tizbek.example/log", SigningKey.generate())
    leaves = _tree(9)
    old = Checkpoint(signer.name, 5, root_hash(leaves[:5]))
    new = Checkpoint(signer.name, 9, root_hash(leaves))
    sign_checkpoint(signer, new, previous=old, proof=consistency_proof(leaves, 5))
    forked = [*leaves[:3], leaf_hash(b"rewritten"), *leaves[4:]]
    fork = Checkpoint(signer.name, 9, root_hash(forked))
    with pytest.raises(InconsistentCheckpointError):
        sign_checkpoint(signer, fork, previous=old, proof=consistency_proof(forked, 5))
    with pytest.raises(InconsistentCheckpointError, match="smaller"):
        check_consistent(new, old, [])
    with pytest.raises(InconsistentCheckpointError):
        check_consistent(old, Checkpoint(signer.name, 5, root_hash(forked[:5])), [])
    with pytest.raises(NoteError, match="origin"):
        sign_checkpoint(signer, Checkpoint("elsewhere/log", 1, leaves[0]), previous=None)


@pytest.mark.parametrize(
    "text",
    ["o\n5\n", "o\n05\nAAAA\n", "o\n-1\nAAAA\n", "o\n5\nAAAA\n", "o\n5\n" + "A" * 44 + "\n\nx\n"],
    ids=["no-root", "leading-zero", "negative", "short-root", "empty-extension"],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)
