"""Benchmark of the durable log on SQLite and PostgreSQL, side by side, against pymerkle.

What it measures, on each database:

* appends/s for 1 submitter and for 16 concurrent submitters, on the full path:
  each submitter parses its submission from the JSON it would send, the
  signature is verified, the entry checked against the log, hashed into the
  tree, and the batch committed durably with a signed checkpoint, before the
  submitter hears back;
* appends/s for 1 submitter once more with a checkpoint signed every second
  (``TIZBEK_CHECKPOINT_INTERVAL=1``) rather than with every batch;
* the 16-submitter rate on a log of about 10,000 entries and on a second log
  of ``--large`` entries (default 1,000,000), measured in turn (each the median
  of five runs, after runs not measured that warm the caches, as a live log's
  are; see :func:`rate_16`);
* inclusion and consistency proof latency at that size, read from the stored
  Merkle nodes and verified;
* with 16 submitters, how many submissions a batch held, how much of the time
  the sequencer spent committing, and how many of the CPUs the process used:
  where the rate falls short, these tell whether the sequencer or the
  interpreter lock (a process near one CPU) is the limit.

In the same run, pymerkle 7's SQLite backend appends and proves the same leaves;
its one-submitter appends are taken in turn with Tizbek's (see :func:`rates_1`),
and so is, on each database, the floor of a one-submitter rate there: the
least an append doing what the storage issue asks costs (``append_floor``),
with a checkpoint signed for each append and without one.

The logs grow through the bulk loader of ``bench_logs``, which writes real,
signed, chained entries with their nodes and projections straight into the
databases, so the run takes minutes rather than hours. On PostgreSQL it then
runs ``ANALYZE``, as the autovacuum daemon would on a live log, and both
databases are left to finish writing the load out (see ``bench_logs.settle``)
before anything is measured. Like a server once it has started, the process
then freezes what setting up built out of the garbage collector's walks
(:func:`ledger.heap.freeze_startup_heap`).

Run: ``.venv/bin/python scripts/bench_storage.py`` (``--quick`` for a smoke
run; ``--pg-url`` or ``TIZBEK_BENCH_PG_URL`` for the PostgreSQL server, which
gets three scratch databases dropped afterwards; ``--no-pg`` for SQLite alone).
The last line printed is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from append_floor import AppendFloor, floor_rate
from bench_logs import (
    AUTHORITY,
    ORIGIN,
    PG_DEFAULT,
    Loader,
    Org,
    Store,
    leaf_data,
    log_size,
    parse,
    register,
    scratch_pg,
    wire,
)
from sqlalchemy import Engine

from ledger.heap import freeze_startup_heap
from ledger.keys import SigningKey
from ledger.merkle import (
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    root_from_nodes,
    verify_consistency,
    verify_inclusion,
)
from ledger.storage import migrate
from ledger.storage.backup import export_lines, import_lines
from ledger.storage.create import create_log
from ledger.storage.engine import make_engine
from ledger.storage.sequencer import GroupCommitter
from ledger.storage.sqllog import SqlLog, node_reader

SUBMITTERS = 16
SMALL = 10_000


# --- measuring ---------------------------------------------------------------------------


def appends_one(log: SqlLog, org: Org, count: int, interval: float = 0.0) -> float:
    """Appends/s for a single submitter waiting for each answer.

    With ``interval``, the committer signs a checkpoint at most every
    ``interval`` seconds (``TIZBEK_CHECKPOINT_INTERVAL``) instead of with every
    batch, which for a lone submitter is with every append.

    The run measured comes after one that is not, as for 16 submitters. A log
    just settled has an empty SQLite WAL, and until the WAL has grown to the
    size at which it starts again from its beginning, every commit extends the
    file, which costs the commit half as much again (measured here with bare
    SQLite, 16 pages: 0.65 to 0.69 ms, against 0.44 to 0.45 ms when the WAL is
    reused). A live log's WAL is reused; only its first few hundred commits
    after the server starts pay this.
    """
    bodies = [wire(org, "one") for _ in range(count)]
    with GroupCommitter(log, checkpoint_interval=interval) as committer:
        start = time.perf_counter()
        for body in bodies:
            committer.submit(parse(body))
        elapsed = time.perf_counter() - start
    return count / elapsed


@dataclass(frozen=True)
class Load:
    """How a run of concurrent submitters used the sequencer and the processor."""

    #: Submissions per batch, on average.
    batch: float
    #: The share of the run's time the sequencer spent committing batches.
    busy: float
    #: Processor time the whole process used per second of the run (at most the CPU count).
    cores: float


def appends_many(
    log: SqlLog, orgs: Sequence[Org], each: int, prefix: str, loads: list[Load] | None = None
) -> float:
    """Appends/s for ``len(orgs)`` concurrent submitters, each waiting for its answers.

    With ``loads``, how the run used the sequencer and the processor is added to it.
    """
    bodies = [[wire(org, prefix) for _ in range(each)] for org in orgs]
    barrier = threading.Barrier(len(orgs) + 1)
    errors: list[BaseException] = []
    with GroupCommitter(log) as committer:

        def submitter(mine: list[bytes]) -> None:
            barrier.wait()
            try:
                for body in mine:
                    committer.submit(parse(body))
            except BaseException as exc:  # reported below; a failed run is no figure
                errors.append(exc)

        threads = [threading.Thread(target=submitter, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        barrier.wait()
        start, cpu = time.perf_counter(), time.process_time()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        cores = (time.process_time() - cpu) / elapsed
    if errors:
        raise errors[0]
    if loads is not None:
        batch = committer.submissions / max(1, committer.batches)
        loads.append(Load(batch, committer.busy / elapsed, cores))
    return len(orgs) * each / elapsed


def ms(samples: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile, in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1e3,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
    )


def proofs(engine: Engine, size: int, samples: int) -> dict[str, float]:
    """Inclusion and consistency proofs at ``size``, each read from the database and verified."""
    rng = random.Random(7)
    with engine.connect() as conn:
        read = node_reader(conn)
        root = root_from_nodes(read, size)
        incl, cons = [], []
        for _ in range(samples):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            proof = inclusion_proof_from_nodes(read, index=index, size=size)
            incl.append(time.perf_counter() - t0)
            leaf = read([(0, index)])[0]
            verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root)
        for _ in range(samples):
            old = rng.randrange(1, size)
            t0 = time.perf_counter()
            proof = consistency_proof_from_nodes(read, old_size=old, size=size)
            cons.append(time.perf_counter() - t0)
            old_root = root_from_nodes(read, old)
            verify_consistency(old_size=old, size=size, old_root=old_root, root=root, proof=proof)
    i50, i99 = ms(incl)
    c50, c99 = ms(cons)
    return {
        "inclusion_p50_ms": i50,
        "inclusion_p99_ms": i99,
        "consistency_p50_ms": c50,
        "consistency_p99_ms": c99,
    }


# --- pymerkle ----------------------------------------------------------------------------


def pymerkle_tree(path: Path) -> Any:
    """pymerkle's SQLite-backed tree, or None when pymerkle 7 is not installed."""
    try:
        import pymerkle
    except ImportError:
        return None
    return pymerkle.SqliteTree(str(path))


def pymerkle_appends(tree: Any, leaves: Sequence[bytes], threads: int) -> float:
    """pymerkle appends/s, one entry per call (each its own commit), from ``threads`` threads."""
    share = [leaves[i::threads] for i in range(threads)]

    def run(mine: Sequence[bytes]) -> None:
        for data in mine:
            tree.append_entry(data)

    workers = [threading.Thread(target=run, args=(s,)) for s in share]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(leaves) / (time.perf_counter() - start)


def pymerkle_proofs(tree: Any, size: int, samples: int) -> dict[str, float]:
    """pymerkle proof latency at ``size`` (after one warming proof), each proof verified."""
    import pymerkle

    rng = random.Random(7)
    t0 = time.perf_counter()
    tree.prove_inclusion(1, size)
    cold = time.perf_counter() - t0
    root = tree.get_root(size)
    incl, cons = [], []
    for _ in range(samples):
        index = rng.randrange(size) + 1
        t0 = time.perf_counter()
        proof = tree.prove_inclusion(index, size)
        incl.append(time.perf_counter() - t0)
        pymerkle.verify_inclusion(tree.get_leaf(index), root, proof)
    for _ in range(samples):
        old = rng.randrange(1, size)
        t0 = time.perf_counter()
        proof = tree.prove_consistency(old, size)
        cons.append(time.perf_counter() - t0)
        pymerkle.verify_consistency(tree.get_root(old), root, proof)
    i50, i99 = ms(incl)
    c50, c99 = ms(cons)
    return {
        "cold_proof_ms": cold * 1e3,
        "inclusion_p50_ms": i50,
        "inclusion_p99_ms": i99,
        "consistency_p50_ms": c50,
        "consistency_p99_ms": c99,
    }


# --- the run -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--large", type=int, default=None, help="log size for the second point")
    parser.add_argument("--pg-url", default=os.environ.get("TIZBEK_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    large = args.large or (30_000 if args.quick else 1_000_000)
    one_count = 100 if args.quick else 400
    each = 25 if args.quick else 150
    rounds = 1 if args.quick else 5
    proof_samples = 200 if args.quick else 2000

    work = Path(tempfile.mkdtemp(prefix="tizbek-bench-"))
    cleanups: list[Callable[[], None]] = []
    try:
        return _run(args, work, cleanups, large, one_count, each, rounds, proof_samples)
    finally:
        for cleanup in cleanups:
            cleanup()
        shutil.rmtree(work, ignore_errors=True)


def _run(
    args: argparse.Namespace,
    work: Path,
    cleanups: list[Callable[[], None]],
    large: int,
    one_count: int,
    each: int,
    rounds: int,
    proof_samples: int,
) -> int:
    print(f"Tizbek storage benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"scratch directory {work}")
    keys = work / "keys"
    sqlite_url = f"sqlite:///{work / 'tizbek.db'}"
    create_log(sqlite_url, keys=keys, origin=ORIGIN, authority_id=AUTHORITY, authority_name="Eco")
    authority = SigningKey.load(keys / "authority.key")
    orgs = [Org(f"collector-{i:02d}", SigningKey.generate()) for i in range(SUBMITTERS)]
    sqlite_engine = make_engine(sqlite_url)
    cleanups.append(sqlite_engine.dispose)
    with SqlLog.open(sqlite_engine, keys / "log.key") as first:
        register(first, authority, orgs)

    def copy(name: str, url: str, drop: Callable[[], None] | None = None) -> Store:
        """A new log in ``url`` holding what the first SQLite log holds (so far, the registry)."""
        if drop is not None:
            cleanups.insert(0, drop)
        migrate.upgrade(url)
        engine = make_engine(url)
        cleanups.insert(0, engine.dispose)
        import_lines(engine, export_lines(sqlite_engine))
        return Store(name, url, engine, SqlLog.open(engine, keys / "log.key"))

    # Two logs per database, one kept at about 10,000 entries and one grown to ``large``,
    # so that the two sizes can be measured in turn (see ``rate_16``).
    stores = [
        Store("sqlite", sqlite_url, sqlite_engine, SqlLog.open(sqlite_engine, keys / "log.key"))
    ]
    bigs = [copy("sqlite", f"sqlite:///{work / 'tizbek-large.db'}")]
    if not args.no_pg:
        stores.append(copy("postgresql", *scratch_pg(args.pg_url)))
        bigs.append(copy("postgresql", *scratch_pg(args.pg_url)))

    print(f"\nGrowing the logs to {SMALL:,} entries ...", flush=True)
    print(f"  {Loader(stores + bigs, orgs).grow_to(SMALL):.1f} s")
    for store in stores:  # not measured: see ``appends_one``
        appends_one(store.log, orgs[0], one_count)
    # pymerkle appends the very entries Tizbek appends, onto the same leaves so far, in
    # turn with Tizbek's runs (see ``rates_1``).
    appender = pymerkle_tree(work / "pymerkle-appends.db")
    if appender is not None:
        appender.append_entries(leaf_data(sqlite_engine, 0))
    # The least a one-submitter append costs on each database (see ``append_floor``), in
    # an empty database of its own.
    floors = {"sqlite": f"sqlite:///{work / 'floor.db'}"}
    if not args.no_pg:
        floors["postgresql"], drop_floor = scratch_pg(args.pg_url)
        cleanups.insert(0, drop_floor)
    for name, url in floors.items():
        migrate.upgrade(url)
        floor = AppendFloor(url, SigningKey.load(keys / "log.key"))
        cleanups.insert(0, floor.close)
        floor_rate(floor, orgs[0], one_count)  # not measured, as for ``appends_one``
        next(s for s in stores if s.name == name).floor = floor
    # As a server does once it has started (``tizbek serve``), and before each part
    # measured: what setting up built stays out of the garbage collector's walks.
    freeze_startup_heap()
    pm: dict[str, float] = {}
    pm_one = rates_1(stores, orgs[0], one_count, appender, sqlite_engine)
    if pm_one is not None:
        pm["appends_per_s_1_submitter"] = pm_one

    print(f"\nGrowing the second logs to {large:,} entries ...", flush=True)
    print(f"  {Loader(bigs, orgs).grow_to(large):.1f} s")
    marks = [log_size(sqlite_engine)]
    freeze_startup_heap()
    for small, big in zip(stores, bigs, strict=True):
        rates = rate_16(small, big, orgs, each, rounds)
        small.figures["appends_per_s_16_submitters"] = rates[0]
        small.figures["appends_per_s_16_submitters_large"] = rates[1]
        if small.name == "sqlite":
            marks.append(log_size(sqlite_engine))
    if appender is not None:
        pm["appends_per_s_16_submitters"] = pymerkle_appends(
            appender, leaf_data(sqlite_engine, marks[0], marks[1]), SUBMITTERS
        )
        appender.close()

    for small, big in zip(stores, bigs, strict=True):
        size = log_size(big.engine)
        small.figures.update(proofs(big.engine, size, proof_samples))
        small.figures["size"] = size

    pm_proofs: dict[str, float] = {}
    prover = pymerkle_tree(work / "pymerkle.db")
    if prover is not None:
        big_engine = bigs[0].engine
        size = log_size(big_engine)
        print(f"\npymerkle: the SQLite log's {size:,} leaves, for its proofs ...", flush=True)
        for start in range(0, size, 50_000):
            prover.append_entries(leaf_data(big_engine, start, min(size, start + 50_000)))
        with big_engine.connect() as conn:
            ours = root_from_nodes(node_reader(conn), size)
        same = prover.get_root(size) == ours
        print(f"  same root as Tizbek's tree: {same}")
        if not same:
            raise SystemExit("pymerkle and Tizbek disagree on the root of the same leaves")
        pm_proofs = pymerkle_proofs(prover, size, min(proof_samples, 300))

    return _report(stores, pm, pm_proofs, large)


#: Rounds of one submitter on each database and on pymerkle, taken in turn.
ONE_ROUNDS = 3
#: The checkpoint interval of the second one-submitter figure, in seconds.
INTERVAL = 1.0


def rates_1(
    stores: Sequence[Store], org: Org, count: int, appender: Any, sqlite: Engine
) -> float | None:
    """One submitter on each database, its floor, then pymerkle on the same leaves, in rounds.

    The figures are the medians of the rounds. After Tizbek's run on each
    database comes a second with a checkpoint signed every :data:`INTERVAL`
    seconds rather than with every append, then the floor's on the same kind of database
    (:mod:`append_floor`): the least an append doing what the storage issue
    asks costs there, which no such append path's one-submitter rate can pass;
    then the floor once more without a checkpoint, the limit as the interval
    between checkpoints grows.

    Each round's pymerkle run appends the entries the SQLite run just
    appended, straight after it. Measured minutes apart, as pymerkle once
    was here, the two rates met different machines: this machine's speed
    halved within half an hour on 2026-12-03. Returns pymerkle's median
    (None without pymerkle); each store's goes into its figures.
    """
    ours: dict[str, list[float]] = {store.name: [] for store in stores}
    spaced: dict[str, list[float]] = {store.name: [] for store in stores}
    floors: dict[str, list[float]] = {store.name: [] for store in stores}
    bare: dict[str, list[float]] = {store.name: [] for store in stores}
    theirs: list[float] = []
    for _ in range(ONE_ROUNDS):
        start = log_size(sqlite)
        for store in stores:
            ours[store.name].append(appends_one(store.log, org, count))
            spaced[store.name].append(appends_one(store.log, org, count, INTERVAL))
            if store.floor is not None:
                floors[store.name].append(floor_rate(store.floor, org, count))
                bare[store.name].append(floor_rate(store.floor, org, count, checkpoints=False))
        if appender is not None:
            theirs.append(pymerkle_appends(appender, leaf_data(sqlite, start, log_size(sqlite)), 1))
    series = [
        ("appends_per_s_1_submitter", "", ours),
        ("appends_per_s_1_submitter_interval_1s", f", a checkpoint every {INTERVAL:g} s", spaced),
        ("floor_appends_per_s_1_submitter", ", floor", floors),
        ("floor_appends_per_s_1_submitter_no_checkpoint", ", floor without a checkpoint", bare),
    ]
    for store in stores:
        for key, label, rates in series:
            if rates[store.name]:
                store.figures[key] = statistics.median(rates[store.name])
                shown = ", ".join(f"{rate:,.0f}" for rate in rates[store.name])
                print(f"  {store.name}, 1 submitter{label}: {shown} appends/s", flush=True)
    if not theirs:
        return None
    print(f"  pymerkle, 1 submitter: {', '.join(f'{r:,.0f}' for r in theirs)} appends/s")
    return statistics.median(theirs)


#: Runs of 16 submitters not measured, on each log, before those measured.
WARMUP_RUNS = 2


def rate_16(
    small: Store, big: Store, orgs: Sequence[Org], each: int, rounds: int
) -> tuple[float, float]:
    """16 submitters on the small and the large log of one database, in turn: the medians.

    The two logs are measured alternately (the first of each pair switching from
    round to round), so that a change in the machine's speed during the run,
    which on a shared 2-core machine moves a single run by a third, weighs on
    both sizes alike instead of on whichever was measured in the slow minutes.

    First, runs not measured warm the caches on the pages the appends touch,
    as a live log's are. After a bulk load of a million entries the first few
    thousand appends read those pages from the file and run slow (per batch of
    16 here: 10.4, then 6.8, then 5.9 ms, against 5.5 ms at 10,000 entries), so
    both logs get ``WARMUP_RUNS`` runs first. Every measured run is printed.
    """
    for n in range(WARMUP_RUNS):
        appends_many(small.log, orgs, each, f"small-warm{n}")
        appends_many(big.log, orgs, each, f"large-warm{n}")
    rates: tuple[list[float], list[float]] = ([], [])
    loads: list[Load] = []
    for r in range(rounds):
        pair = [(0, small), (1, big)]
        for which, store in pair if r % 2 == 0 else pair[::-1]:
            rates[which].append(
                appends_many(store.log, orgs, each, f"{store.name}-{which}-{r}", loads)
            )
    for label, found in zip(("small", "large"), rates, strict=True):
        shown = ", ".join(f"{rate:,.0f}" for rate in found)
        print(f"  {small.name}, 16 submitters, {label} log: {shown} appends/s", flush=True)
    # The first limit to look for when the rate falls short: a sequencer busy most of the
    # time, or a process using about one core (the interpreter lock).
    batch = statistics.median(load.batch for load in loads)
    busy = statistics.median(load.busy for load in loads)
    cores = statistics.median(load.cores for load in loads)
    print(
        f"  {small.name}, 16 submitters: {batch:.1f} submissions per batch, sequencer busy "
        f"{busy:.0%} of the time, process using {cores:.2f} of {os.cpu_count()} CPUs (medians)",
        flush=True,
    )
    small.figures["sequencer_busy_pct_16_submitters"] = busy * 100
    small.figures["process_cpus_16_submitters"] = cores
    return statistics.median(rates[0]), statistics.median(rates[1])


def _report(
    stores: Sequence[Store], pm: dict[str, float], pm_proofs: dict[str, float], large: int
) -> int:
    names = [s.name for s in stores]
    print(
        "\n" + " " * 44 + "".join(f"{n:>14}" for n in names) + (f"{'pymerkle':>14}" if pm else "")
    )

    def line(label: str, key: str, fmt: str, pm_value: float | None = None) -> None:
        cells = "".join(f"{fmt.format(s.figures[key]):>14}" for s in stores)
        extra = f"{fmt.format(pm_value):>14}" if pm_value is not None else ""
        print(f"{label:<44}{cells}{extra}")

    line(
        "appends/s, 1 submitter",
        "appends_per_s_1_submitter",
        "{:,.0f}",
        pm.get("appends_per_s_1_submitter"),
    )
    line(
        f"appends/s, 1 submitter, checkpoint every {INTERVAL:g} s",
        "appends_per_s_1_submitter_interval_1s",
        "{:,.0f}",
    )
    if all("floor_appends_per_s_1_submitter" in s.figures for s in stores):
        line(
            "appends/s, 1 submitter: floor (see below)",
            "floor_appends_per_s_1_submitter",
            "{:,.0f}",
        )
        line(
            "appends/s, 1 submitter: floor, no checkpoint",
            "floor_appends_per_s_1_submitter_no_checkpoint",
            "{:,.0f}",
        )
    line(
        f"appends/s, 16 submitters, {SMALL:,} entries",
        "appends_per_s_16_submitters",
        "{:,.0f}",
        pm.get("appends_per_s_16_submitters"),
    )
    line(
        f"appends/s, 16 submitters, {large:,} entries",
        "appends_per_s_16_submitters_large",
        "{:,.0f}",
    )
    line("inclusion proof p50 ms", "inclusion_p50_ms", "{:.3f}", pm_proofs.get("inclusion_p50_ms"))
    line("inclusion proof p99 ms", "inclusion_p99_ms", "{:.3f}", pm_proofs.get("inclusion_p99_ms"))
    line(
        "consistency proof p50 ms",
        "consistency_p50_ms",
        "{:.3f}",
        pm_proofs.get("consistency_p50_ms"),
    )
    line(
        "consistency proof p99 ms",
        "consistency_p99_ms",
        "{:.3f}",
        pm_proofs.get("consistency_p99_ms"),
    )
    if pm_proofs:
        print(
            f"pymerkle's first (cold) proof at {large:,} leaves: "
            f"{pm_proofs['cold_proof_ms']:,.0f} ms"
        )

    headline: dict[str, float] = {}
    ok = True
    print("\nRatios and targets:")
    for s in stores:
        f, n = s.figures, s.name
        drift = f["appends_per_s_16_submitters_large"] / f["appends_per_s_16_submitters"]
        print(f"  {n}: {large:,}-entry rate / {SMALL:,}-entry rate = {drift:.2f} (target >= 0.85)")
        checks = [
            (f["appends_per_s_16_submitters"] >= 2000, "16 submitters >= 2,000 appends/s"),
            (f["appends_per_s_16_submitters_large"] >= 2000, f"same at {large:,} entries"),
            (drift >= 0.85, "large-log rate within 15 %"),
            (max(f["inclusion_p99_ms"], f["consistency_p99_ms"]) <= 5.0, "proof p99 <= 5 ms"),
        ]
        for key in (
            "appends_per_s_1_submitter",
            "appends_per_s_1_submitter_interval_1s",
            "appends_per_s_16_submitters",
            "appends_per_s_16_submitters_large",
            "inclusion_p50_ms",
            "inclusion_p99_ms",
            "consistency_p50_ms",
            "consistency_p99_ms",
        ):
            headline[f"{n}_{key}"] = round(f[key], 3)
        headline[f"{n}_large_to_small_ratio"] = round(drift, 3)
        headline[f"{n}_sequencer_busy_pct_16_submitters"] = round(
            f["sequencer_busy_pct_16_submitters"], 1
        )
        headline[f"{n}_process_cpus_16_submitters"] = round(f["process_cpus_16_submitters"], 2)
        if pm:
            r1 = f["appends_per_s_1_submitter"] / pm["appends_per_s_1_submitter"]
            r16 = f["appends_per_s_16_submitters"] / pm["appends_per_s_16_submitters"]
            print(
                f"  {n}: appends vs pymerkle: {r1:.2f}x (1 submitter), {r16:.2f}x (16 submitters)"
            )
            r1s = f["appends_per_s_1_submitter_interval_1s"] / pm["appends_per_s_1_submitter"]
            print(
                f"  {n}: 1 submitter with a checkpoint every {INTERVAL:g} s vs pymerkle: {r1s:.2f}x"
            )
            headline[f"{n}_ratio_to_pymerkle_appends_1"] = round(r1, 2)
            headline[f"{n}_ratio_to_pymerkle_appends_1_interval_1s"] = round(r1s, 2)
            headline[f"{n}_ratio_to_pymerkle_appends_16"] = round(r16, 2)
            unreachable = ""
            if "floor_appends_per_s_1_submitter" in f:
                pm1 = pm["appends_per_s_1_submitter"]
                floor = f["floor_appends_per_s_1_submitter"]
                bare = f["floor_appends_per_s_1_submitter_no_checkpoint"]
                print(
                    f"  {n}: floor of 1 submitter vs pymerkle: {floor / pm1:.2f}x; Tizbek's "
                    f"1 submitter at {f['appends_per_s_1_submitter'] / floor:.2f} of the floor"
                )
                print(
                    f"  {n}: floor without a checkpoint (the limit of any interval) vs "
                    f"pymerkle: {bare / pm1:.2f}x"
                )
                headline[f"{n}_floor_appends_per_s_1_submitter"] = round(floor, 3)
                headline[f"{n}_floor_ratio_to_pymerkle_appends_1"] = round(floor / pm1, 2)
                headline[f"{n}_floor_appends_per_s_1_submitter_no_checkpoint"] = round(bare, 3)
                headline[f"{n}_floor_ratio_to_pymerkle_appends_1_no_checkpoint"] = round(
                    bare / pm1, 2
                )
                if bare < pm1:
                    unreachable = " (out of reach here: see the floor without a checkpoint)"
            checks.append((r16 > 1, "appends ahead of pymerkle, 16 submitters"))
            checks.append((r1 > 1, f"appends ahead of pymerkle, 1 submitter{unreachable}"))
            checks.append(
                (
                    r1s > 1,
                    f"same, with a checkpoint every {INTERVAL:g} s (not the default){unreachable}",
                )
            )
        if pm_proofs:
            rp = pm_proofs["inclusion_p99_ms"] / f["inclusion_p99_ms"]
            rc = pm_proofs["consistency_p99_ms"] / f["consistency_p99_ms"]
            print(
                f"  {n}: proof p99 vs pymerkle: {rp:.1f}x faster (inclusion), "
                f"{rc:.1f}x (consistency)"
            )
            headline[f"{n}_ratio_pymerkle_to_tizbek_inclusion_p99"] = round(rp, 2)
            headline[f"{n}_ratio_pymerkle_to_tizbek_consistency_p99"] = round(rc, 2)
            checks.append((rp > 1 and rc > 1, "proofs ahead of pymerkle"))
        for passed, what in checks:
            ok &= passed
            print(f"    [{'pass' if passed else 'MISS'}] {what}")
    for key, value in pm.items():
        headline[f"pymerkle_{key}"] = round(value, 3)
    for key, value in pm_proofs.items():
        headline[f"pymerkle_{key}"] = round(value, 3)
    headline["log_entries_large"] = large
    print(json.dumps(headline, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
