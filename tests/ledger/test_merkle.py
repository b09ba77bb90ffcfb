"""RFC 9162 Merkle tree: reference vectors, the transparency-dev corpus, properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import ProofError

CORPUS = Path(__file__).parent.parent / "vectors" / "merkle" / "testdata"

# RFC 6962 reference leaves and the roots of the trees of their first 1..8 leaves.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _b64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@pytest.mark.parametrize("size", range(1, 9))
def test_rfc6962_reference_roots(size: int) -> None:
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES[:size]]
    assert merkle.root_hash(hashes).hex() == ROOTS[size - 1]
    compact = merkle.CompactRange()
    for h in hashes:
        compact.append(h)
    assert compact.root().hex() == ROOTS[size - 1]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.root_hash([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def _cases(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).rglob("*.json"))


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(CORPUS)))
def test_inclusion_corpus(path: Path) -> None:
    case = json.loads(path.read_text())
    args = {
        "index": case["leafIdx"],
        "size": case["treeSize"],
        "leaf": _b64(case["leafHash"]),
        "proof": [_b64(p) for p in case["proof"] or []],
        "root": _b64(case["root"]),
    }
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(**args)
    else:
        merkle.verify_inclusion(**args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(CORPUS)))
def test_consistency_corpus(path: Path) -> None:
    case = json.loads(path.read_text())
    args = {
        "old_size": case["size1"],
        "size": case["size2"],
        "old_root": _b64(case["root1"]),
        "root": _b64(case["root2"]),
        "proof": [_b64(p) for p in case["proof"] or []],
    }
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(**args)
    else:
        merkle.verify_consistency(**args)


def test_corpus_is_all_there() -> None:
    assert len(_cases("inclusion")) + len(_cases("consistency")) == 196


def test_proofs_from_stored_nodes_equal_proofs_from_leaves() -> None:
    hashes = _hashes(300)
    nodes: dict[merkle.Node, bytes] = {}
    compact = merkle.CompactRange()
    for size in range(1, 301):
        for level, index, h in compact.append(hashes[size - 1]):
            nodes[(level, index)] = h
        read = lambda ns: [nodes[n] for n in ns]  # noqa: E731
        assert merkle.root_from_nodes(read, size) == merkle.root_hash(hashes[:size])
        for index in {0, size // 3, size - 1}:
            assert merkle.inclusion_proof_from_nodes(
                read, index=index, size=size
            ) == merkle.inclusion_proof(hashes[:size], index)
        for old in {1, size // 2 or 1, size}:
            assert merkle.consistency_proof_from_nodes(
                read, old_size=old, size=size
            ) == merkle.consistency_proof(hashes[:size], old)


def test_proof_reads_are_logarithmic() -> None:
    seen: list[int] = []
    hashes = _hashes(1000)
    base = merkle.reader_over_leaves(hashes)

    def read(nodes: object) -> list[bytes]:
        assert isinstance(nodes, list)
        seen.append(len(nodes))
        return list(base(nodes))

    merkle.inclusion_proof_from_nodes(read, index=517, size=999)
    merkle.consistency_proof_from_nodes(read, old_size=333, size=999)
    assert len(seen) == 2  # one batch per proof
    assert max(seen) <= 2 * (999).bit_length()


def test_compact_range_reports_completed_nodes() -> None:
    compact = merkle.CompactRange()
    hashes = _hashes(4)
    assert [n[:2] for n in compact.append(hashes[0])] == [(0, 0)]
    assert [n[:2] for n in compact.append(hashes[1])] == [(0, 1), (1, 0)]
    assert [n[:2] for n in compact.append(hashes[2])] == [(0, 2)]
    assert [n[:2] for n in compact.append(hashes[3])] == [(0, 3), (1, 1), (2, 0)]
    with pytest.raises(ProofError):
        merkle.CompactRange(3, [hashes[0]])


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (5, 5), (-1, 4)], ids=["empty", "past-end", "negative"]
)
def test_inclusion_proof_out_of_range_is_refused(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        merkle.inclusion_ranges(index, size)


@pytest.mark.parametrize(("old", "new"), [(0, 4), (5, 4)], ids=["from-empty", "shrinking"])
def test_consistency_proof_bad_sizes_are_refused(old: int, new: int) -> None:
    with pytest.raises(ProofError):
        merkle.consistency_ranges(old, new)


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


TREE = _hashes(300)
ROOT_AT = [merkle.root_hash(TREE[:n]) for n in range(301)]


@settings(max_examples=400, deadline=None)
@given(data=st.data(), size=st.integers(1, 300))
def test_inclusion_property(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(TREE[:size], index)
    root = ROOT_AT[size]
    merkle.verify_inclusion(index=index, size=size, leaf=TREE[index], proof=proof, root=root)

    def refused(**changes: object) -> None:
        args: dict[str, object] = {
            "index": index,
            "size": size,
            "leaf": TREE[index],
            "proof": proof,
            "root": root,
        }
        args.update(changes)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(**args)  # type: ignore[arg-type]

    bit = data.draw(st.integers(0, 255))
    refused(leaf=_flip(TREE[index], bit))
    refused(root=_flip(root, bit))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        refused(proof=[*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]])
    other = data.draw(st.integers(0, size))
    if other != index:
        refused(index=other)
    new_size = data.draw(st.integers(1, 300))
    if new_size != size:
        refused(size=new_size, root=ROOT_AT[new_size])


@settings(max_examples=400, deadline=None)
@given(data=st.data(), size=st.integers(1, 300))
def test_consistency_property(data: st.DataObject, size: int) -> None:
    old = data.draw(st.integers(1, size))
    proof = merkle.consistency_proof(TREE[:size], old)
    good = {"old_size": old, "size": size, "old_root": ROOT_AT[old], "root": ROOT_AT[size]}
    merkle.verify_consistency(proof=proof, **good)  # type: ignore[arg-type]

    def refused(**changes: object) -> None:
        args: dict[str, object] = {**good, "proof": proof}
        args.update(changes)
        with pytest.raises(ProofError):
            merkle.verify_consistency(**args)  # type: ignore[arg-type]

    bit = data.draw(st.integers(0, 255))
    refused(old_root=_flip(ROOT_AT[old], bit))
    refused(root=_flip(ROOT_AT[size], bit))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        refused(proof=[*proof[:i], _flip(proof[i], bit), *proof[i + 1 :]])
    other_old = data.draw(st.integers(1, size))
    if other_old != old:
        refused(old_size=other_old, old_root=ROOT_AT[other_old])
    other_size = data.draw(st.integers(1, 300))
    if other_size != size:
        refused(size=other_size, root=ROOT_AT[other_size])


def test_every_size_to_300_with_random_pairs() -> None:
    import random

    rng = random.Random(9162)
    for size in range(1, 301):
        for _ in range(4):
            index, old = rng.randrange(size), rng.randint(1, size)
            proof = merkle.inclusion_proof(TREE[:size], index)
            merkle.verify_inclusion(
                index=index, size=size, leaf=TREE[index], proof=proof, root=ROOT_AT[size]
            )
            cproof = merkle.consistency_proof(TREE[:size], old)
            merkle.verify_consistency(
                old_size=old, size=size, old_root=ROOT_AT[old], root=ROOT_AT[size], proof=cproof
            )
            with pytest.raises(ProofError):
                merkle.verify_inclusion(
                    index=index, size=size, leaf=TREE[index], proof=proof, root=ROOT_AT[size - 1]
                )
            if old < size:
                bad = [*cproof[:-1], _flip(cproof[-1], rng.randrange(256))]
                with pytest.raises(ProofError):
                    merkle.verify_consistency(
                        old_size=old,
                        size=size,
                        old_root=ROOT_AT[old],
                        root=ROOT_AT[size],
                        proof=bad,
                    )
