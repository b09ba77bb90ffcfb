"""Benchmark of Tizbek's ledger core: Merkle roots and proofs at 1,000,000 leaves, bundle checks.

Run: ``.venv/bin/python scripts/bench_core.py`` (``--quick`` for a small smoke run).
The last line printed is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.bundle import verify_bundle
from ledger.canonical import parse_json
from ledger.demo import AUTHORITY_ID, DemoLog, build_demo_log
from ledger.labels import ids
from ledger.merkle import (
    CompactRange,
    Node,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def _us(samples: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile, in microseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e6, p99 * 1e6


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_merkle(size: int, samples: int) -> dict[str, float]:
    """Root over ``size`` leaves; stored subtrees; proof build and verify from them."""
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(size)]
    root_s = _timed(lambda: root_hash(leaves))
    root = root_hash(leaves)

    nodes: dict[Node, bytes] = {}
    compact = CompactRange()

    def store() -> None:
        for h in leaves:
            for level, index, node in compact.append(h):
                nodes[(level, index)] = node

    store_s = _timed(store)
    assert compact.root() == root
    reads: list[int] = []

    def read(wanted: Sequence[Node]) -> list[bytes]:
        reads.append(len(wanted))
        return [nodes[n] for n in wanted]

    rng = random.Random(2026)
    build_i, verify_i, build_c, verify_c = [], [], [], []
    old_roots: dict[int, bytes] = {}
    for _ in range(samples):
        index = rng.randrange(size)
        start = time.perf_counter()
        proof = inclusion_proof_from_nodes(read, index=index, size=size)
        build_i.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_inclusion(index=index, size=size, leaf=leaves[index], proof=proof, root=root)
        verify_i.append(time.perf_counter() - start)
    inclusion_reads = max(reads)
    reads.clear()
    for _ in range(samples):
        old = rng.randrange(1, size)
        if old not in old_roots:
            old_roots[old] = CompactRange.from_reader(read, old).root()
        reads.clear()
        start = time.perf_counter()
        cproof = consistency_proof_from_nodes(read, old_size=old, size=size)
        build_c.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_consistency(
            old_size=old, size=size, old_root=old_roots[old], root=root, proof=cproof
        )
        verify_c.append(time.perf_counter() - start)
    consistency_reads = max(reads) if reads else 0
    bi, bi99 = _us(build_i)
    vi, vi99 = _us(verify_i)
    bc, bc99 = _us(build_c)
    vc, vc99 = _us(verify_c)
    print(f"Merkle tree of {size:,} leaves")
    print(f"  root over all leaf hashes            {root_s:8.2f} s")
    print(f"  storing perfect subtrees (appending) {store_s:8.2f} s  ({len(nodes):,} nodes)")
    print("                          p50 µs   p99 µs   nodes read (max)")
    print(f"  inclusion build      {bi:9.1f} {bi99:8.1f}   {inclusion_reads}")
    print(f"  inclusion verify     {vi:9.1f} {vi99:8.1f}")
    print(f"  consistency build    {bc:9.1f} {bc99:8.1f}   {consistency_reads}")
    print(f"  consistency verify   {vc:9.1f} {vc99:8.1f}")
    tag = "1m" if size == 1_000_000 else str(size)
    return {
        f"merkle_root_{tag}_s": round(root_s, 3),
        f"subtree_store_{tag}_s": round(store_s, 3),
        "inclusion_build_p50_us": round(bi, 1),
        "inclusion_build_p99_us": round(bi99, 1),
        "inclusion_verify_p50_us": round(vi, 1),
        "consistency_build_p50_us": round(bc, 1),
        "consistency_build_p99_us": round(bc99, 1),
        "consistency_verify_p50_us": round(vc, 1),
        "proof_nodes_read_max": max(inclusion_reads, consistency_reads),
    }


def _realistic_log(lots: int) -> DemoLog:
    demo = build_demo_log()
    block = "B3NC"
    demo.submit(
        "labels.issued", AUTHORITY_ID, org="almaty-collect", block=block, count=ids.MAX_ISSUE
    )
    for i in range(lots):
        demo.submit(
            "lot.registered",
            "almaty-collect",
            lot=ids.make(block, i),
            category=1 + i % 6,
            waste_code="20 01 35*",
            hazardous=True,
            hp_codes=["HP14"],
            items=1 + i % 50,
            weight_g=10_000 + i,
            weight_measured=True,
            source="household",
            site="Almaty, Bostandyq district",
        )
    return demo


def bench_bundle(lots: int, rounds: int) -> dict[str, float]:
    """Bundle verification rate beside the bare Ed25519 verify rate, measured alternately."""
    demo = _realistic_log(lots)
    text = json.dumps(demo.log.bundle())
    bundle = parse_json(text)
    count = len(bundle["entries"])
    messages = [item["leaf"].encode() for item in bundle["entries"]]
    signer = Ed25519PrivateKey.generate()
    public = signer.public_key()
    signatures = [signer.sign(m) for m in messages]

    def bare() -> None:
        for m, s in zip(messages, signatures, strict=True):
            public.verify(s, m)

    bundle_s, bare_s = [], []
    verify_bundle(bundle)  # warm up
    bare()
    for _ in range(rounds):  # alternate, so both see the same machine load
        bundle_s.append(_timed(lambda: verify_bundle(bundle)))
        bare_s.append(_timed(bare))
    bundle_rate = count / statistics.median(bundle_s)
    bare_rate = count / statistics.median(bare_s)
    ratio = bundle_rate / bare_rate
    print(f"Offline bundle of {count:,} entries ({len(text) / 1e6:.1f} MB of JSON)")
    print(f"  bundle verification        {bundle_rate:9.0f} entries/s")
    print(f"  bare Ed25519 verify        {bare_rate:9.0f} signatures/s")
    verdict = "met" if ratio >= 0.5 else "NOT met"
    print(f"  ratio                      {ratio:9.2f}  (target >= 0.5: {verdict})")
    return {
        "bundle_entries": count,
        "bundle_verify_entries_per_s": round(bundle_rate),
        "ed25519_verify_per_s": round(bare_rate),
        "ratio_to_ed25519_verify": round(ratio, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args()
    size, samples, lots, rounds = (
        (10_000, 200, 300, 3) if args.quick else (1_000_000, 2_000, 5_000, 7)
    )
    figures = bench_merkle(size, samples)
    figures.update(bench_bundle(lots, rounds))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
