"""Subtree inclusion and consistency proofs: the transparency-dev corpus and properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import subtree
from ledger.errors import ProofError
from ledger.merkle import CompactRange, Node, leaf_hash, root_hash

CORPUS = Path(__file__).parent.parent / "vectors" / "merkle" / "testdata"


def _b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _cases(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).rglob("*.json"))


def _verdict(check: Any) -> bool:
    """True if ``check`` raised ProofError; any other exception fails the test."""
    try:
        check()
    except ProofError:
        return True
    return False


@pytest.mark.parametrize(
    "path", _cases("subtreeinclusion"), ids=lambda p: str(p.relative_to(CORPUS))
)
def test_subtree_inclusion_corpus(path: Path) -> None:
    case = json.loads(path.read_text())
    refused = _verdict(
        lambda: subtree.verify_subtree_inclusion(
            index=case["leafIdx"],
            start=case["start"],
            end=case["end"],
            leaf=_b64(case["leafHash"]),
            proof=[_b64(p) for p in case["proof"] or []],
            subtree_root=_b64(case["root"]),
        )
    )
    assert refused == case["wantErr"], case["desc"]


@pytest.mark.parametrize(
    "path", _cases("subtreeconsistency"), ids=lambda p: str(p.relative_to(CORPUS))
)
def test_subtree_consistency_corpus(path: Path) -> None:
    case = json.loads(path.read_text())
    refused = _verdict(
        lambda: subtree.verify_subtree_consistency(
            start=case["start"],
            end=case["end"],
            size=case["size"],
            subtree_root=_b64(case["root1"]),
            root=_b64(case["root2"]),
            proof=[_b64(p) for p in case["proof"] or []],
        )
    )
    assert refused == case["wantErr"], case["desc"]


def test_subtree_corpus_is_all_there() -> None:
    assert len(_cases("subtreeinclusion")) + len(_cases("subtreeconsistency")) == 322


def test_draft_examples() -> None:
    # Subtree [8, 13): entry 10's proof is d[11], D[8:10], d[12]; its consistency proof with
    # a tree of 14 is d[12], d[13], D[8:12], D[0:8].
    assert subtree.subtree_consistency_ranges(8, 13, 14) == [(12, 13), (13, 14), (8, 12), (0, 8)]
    assert subtree.subtree_consistency_ranges(4, 8, 14) == [(0, 4), (8, 14)]
    assert [subtree.is_valid_subtree(*r) for r in [(4, 8), (8, 13), (2, 6), (3, 5), (0, 7)]] == [
        True,
        True,
        False,
        False,
        True,
    ]


LEAVES = [leaf_hash(i.to_bytes(2, "big")) for i in range(64)]


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=st.integers(1, 64))
def test_subtree_proofs_property(data: st.DataObject, size: int) -> None:
    valid = [(s, e) for s in range(size) for e in range(s + 1, size + 1)]
    valid = [(s, e) for s, e in valid if subtree.is_valid_subtree(s, e)]
    start, end = data.draw(st.sampled_from(valid))
    leaves = LEAVES[:size]
    sub_root, root = root_hash(leaves[start:end]), root_hash(leaves)
    index = data.draw(st.integers(start, end - 1))
    iproof = subtree.subtree_inclusion_proof(leaves, index=index, start=start, end=end)
    subtree.verify_subtree_inclusion(
        index=index, start=start, end=end, leaf=leaves[index], proof=iproof, subtree_root=sub_root
    )
    cproof = subtree.subtree_consistency_proof(leaves, start=start, end=end)
    subtree.verify_subtree_consistency(
        start=start, end=end, size=size, subtree_root=sub_root, root=root, proof=cproof
    )
    nodes: dict[Node, bytes] = {}
    tree = CompactRange()
    for h in leaves:
        nodes.update({(lv, ix): n for lv, ix, n in tree.append(h)})
    assert cproof == subtree.subtree_consistency_proof_from_nodes(
        lambda ns: [nodes[n] for n in ns], start=start, end=end, size=size
    )
    bit = data.draw(st.integers(0, 255))
    if iproof:
        i = data.draw(st.integers(0, len(iproof) - 1))
        bad = [*iproof[:i], _flip(iproof[i], bit), *iproof[i + 1 :]]
        with pytest.raises(ProofError):
            subtree.verify_subtree_inclusion(
                index=index,
                start=start,
                end=end,
                leaf=leaves[index],
                proof=bad,
                subtree_root=sub_root,
            )
    if cproof:
        i = data.draw(st.integers(0, len(cproof) - 1))
        bad = [*cproof[:i], _flip(cproof[i], bit), *cproof[i + 1 :]]
        with pytest.raises(ProofError):
            subtree.verify_subtree_consistency(
                start=start, end=end, size=size, subtree_root=sub_root, root=root, proof=bad
            )
    with pytest.raises(ProofError):
        subtree.verify_subtree_consistency(
            start=start,
            end=end,
            size=size,
            subtree_root=_flip(sub_root, bit),
            root=root,
            proof=cproof,
        )
