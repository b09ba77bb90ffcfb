"""What an append costs the processor, counted in instructions rather than timed.

The storage and API benchmarks time appends, and on a shared two-core machine
the same code times a third faster or slower from one hour to the next. The
number of instructions an append executes does not drift: valgrind's callgrind
tool counts them, the same for the same code and data whatever else the
machine is doing. So this is the benchmark to compare two versions of the
append path with (run it on each; a change of a few per cent is real), while
``bench_storage.py`` tells what the path achieves in time on the day.

What it counts, on SQLite:

* a batch of 16 submissions (``append_batch``, as the sequencer runs it), per
  append: checking against the log, hashing into the tree, the projections,
  signing the checkpoint, the SQL statements and the commit (the commit's
  instructions, not its wait for the disk);
* the same for batches of one, as a lone submitter's appends;
* pymerkle 7 appending the same leaves to its SQLite tree, one commit each, as
  the baseline (the signatures' verification is left out of all three: it is
  the same 0.1 ms for every submission, and pymerkle checks none).

Each figure is the difference between two runs of a child process under
callgrind, one appending and one doing everything else (starting Python,
opening the log, parsing the submissions and checking their signatures), so
that only the appends are counted. The log is built first at ``--size``
entries by the bulk loader of ``bench_logs``.

Run: ``.venv/bin/python scripts/bench_append_cost.py`` (valgrind must be
installed: ``apt-get install valgrind``); a run takes several minutes, most of
it under callgrind, which runs code some fifty times slower. The last line
printed is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Submissions per batch in the batched count; as many as the storage benchmark's submitters.
BATCH = 16
#: Batches appended, unmeasured, before those counted (the first batches load the tail).
WARM = 4

#: C functions whose inclusive counts give the breakdown of an append (``dumps`` is
#: orjson's, ``encoder_call`` the standard library's encoder).
_PARTS = {
    "SQL statements": ("_pysqlite_query_execute",),
    "commit": ("pysqlite_connection_commit",),
    "JSON encoding": ("encoder_call", "dumps"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="log size to append at")
    parser.add_argument("--batches", type=int, default=30, help="batches of 16 counted")
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "BASE", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        kind, base, count = args.child
        return _child(kind, Path(base), int(count))
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("bench_append_cost: valgrind is not installed (apt-get install valgrind)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="tizbek-cost-"))
    try:
        return _run(work, args.size, args.batches)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, size: int, batches: int) -> int:
    print(f"Tizbek append cost: Python {sys.version.split()[0]}, {_valgrind_version()}")
    print(f"building a log of {size:,} entries ...", flush=True)
    _build(work / "base", size, batches * BATCH + WARM * BATCH)
    singles = min(batches * BATCH, 200)
    counted = {
        "batched": ("tizbek-batch", batches * BATCH),
        "one at a time": ("tizbek-one", singles),
        "pymerkle": ("pymerkle", singles),
    }
    per: dict[str, float] = {}
    parts: dict[str, float] = {}
    for label, (kind, appends) in counted.items():
        print(f"counting: {label} ({appends} appends, two runs under callgrind) ...", flush=True)
        idle = _callgrind(work, kind, 0)
        busy = _callgrind(work, kind, appends)
        per[label] = (busy.total - idle.total) / appends
        if kind == "tizbek-batch":
            for part, functions in _PARTS.items():
                parts[part] = (
                    sum(busy.inclusive(f) - idle.inclusive(f) for f in functions) / appends
                )

    print(f"\ninstructions per append, SQLite, log of {size:,} entries:")
    for label, value in per.items():
        print(f"  {label:<16}{value:>12,.0f}")
    print(f"\nof a batched append ({per['batched']:,.0f}):")
    rest = per["batched"] - sum(parts.values())
    for part, value in [*parts.items(), ("the rest (Python)", rest)]:
        print(f"  {part:<20}{value:>10,.0f}  {100 * value / per['batched']:5.1f} %")
    ratio_batched = per["batched"] / per["pymerkle"]
    ratio_one = per["one at a time"] / per["pymerkle"]
    print(
        f"\nagainst pymerkle's append: {ratio_batched:.2f}x (batched), "
        f"{ratio_one:.2f}x (one at a time)"
    )
    headline = {
        "instructions_per_append_batched": round(per["batched"]),
        "instructions_per_append_one": round(per["one at a time"]),
        "pymerkle_instructions_per_append": round(per["pymerkle"]),
        "ratio_batched_to_pymerkle": round(ratio_batched, 2),
        "ratio_one_to_pymerkle": round(ratio_one, 2),
        **{
            "instructions_per_append_" + re.sub(r"\W+", "_", k.lower()).strip("_"): round(v)
            for k, v in parts.items()
        },
        "log_entries": size,
    }
    print(json.dumps(headline, sort_keys=True))
    return 0


# --- the base log, built once -----------------------------------------------------------


def _build(base: Path, size: int, appends: int) -> None:
    """A SQLite log of ``size`` entries in ``base``, and ``appends`` submissions for it."""
    import pymerkle
    from bench_logs import AUTHORITY, ORIGIN, Loader, Org, Store, leaf_data, register, wire

    from ledger.keys import SigningKey
    from ledger.storage.create import create_log
    from ledger.storage.engine import make_engine
    from ledger.storage.sqllog import SqlLog

    base.mkdir(parents=True)
    url = f"sqlite:///{base / 'log.db'}"
    create_log(url, keys=base / "keys", origin=ORIGIN, authority_id=AUTHORITY, authority_name="Eco")
    authority = SigningKey.load(base / "keys" / "authority.key")
    orgs = [Org(f"collector-{i:02d}", SigningKey.generate()) for i in range(BATCH)]
    engine = make_engine(url)
    with SqlLog.open(engine, base / "keys" / "log.key") as log:
        register(log, authority, orgs)
        Loader([Store("sqlite", url, engine, log)], orgs).grow_to(size)
        leaves = leaf_data(engine, 0)
    engine.dispose()
    # pymerkle's tree holds the same leaves, so that both append at the same size.
    tree = pymerkle.SqliteTree(str(base / "pymerkle.db"))
    tree.append_entries(leaves)
    tree.close()
    bodies = [wire(orgs[i % BATCH], "cost").decode() for i in range(appends)]
    (base / "submissions.json").write_text(json.dumps(bodies))


# --- counting ---------------------------------------------------------------------------


class _Counts:
    """One callgrind run's total and its functions' inclusive counts."""

    def __init__(self, out: Path) -> None:
        report = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        total = re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", report, re.MULTILINE)
        if total is None:
            raise SystemExit(f"bench_append_cost: no total in {out}")
        self.total = _number(total.group(1))
        self._report = report

    def inclusive(self, function: str) -> float:
        """The largest inclusive count of ``function`` (its outermost calls)."""
        found = re.search(
            rf"^\s*([\d,]+) \([^)]*\)\s+\S*:{re.escape(function)} ", self._report, re.MULTILINE
        )
        return 0.0 if found is None else _number(found.group(1))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _callgrind(work: Path, kind: str, count: int) -> _Counts:
    out = work / f"callgrind.{kind}.{count}"
    child = [sys.executable, __file__, "--child", kind, str(work / "base"), str(count)]
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *child],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise SystemExit(f"bench_append_cost: the {kind} run failed:\n{done.stderr[-2000:]}")
    return _Counts(out)


def _child(kind: str, base: Path, count: int) -> int:
    """Under callgrind: set up, then append ``count`` submissions (``0``: set up only)."""
    copy = Path(tempfile.mkdtemp(prefix="tizbek-cost-run-"))
    try:
        shutil.copytree(base, copy / "base")
        bodies: list[str] = json.loads((copy / "base" / "submissions.json").read_text())
        if kind == "pymerkle":
            return _child_pymerkle(copy / "base", bodies, count)
        return _child_tizbek(copy / "base", bodies, count, BATCH if kind == "tizbek-batch" else 1)
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _child_tizbek(base: Path, bodies: list[str], count: int, batch: int) -> int:
    from bench_logs import parse

    from ledger.storage.engine import make_engine
    from ledger.storage.sqllog import SqlLog

    engine = make_engine(f"sqlite:///{base / 'log.db'}")
    log = SqlLog.open(engine, base / "keys" / "log.key")
    log.autocheckpoint = False  # as under the sequencer: the WAL is checkpointed off the path
    submissions = [parse(body.encode()) for body in bodies]
    warm, rest = submissions[: WARM * BATCH], submissions[WARM * BATCH :]
    for start in range(0, len(warm), BATCH):
        log.append_batch(warm[start : start + BATCH])
    # Checked here, in both runs alike, as submitters check them before the sequencer.
    checked = []
    for submission in rest:
        key = log.known_key(submission.event["key"])
        checked.append(submission if key is None else submission.checked(key))
    for start in range(0, count, batch):
        for result in log.append_batch(checked[start : min(count, start + batch)]):
            if isinstance(result, Exception):
                raise result
    log.close()
    engine.dispose()
    return 0


def _child_pymerkle(base: Path, bodies: list[str], count: int) -> int:
    import pymerkle

    tree = pymerkle.SqliteTree(str(base / "pymerkle.db"))
    leaves = [body.encode() for body in bodies]
    tree.append_entries(leaves[: WARM * BATCH])
    for data in leaves[WARM * BATCH : WARM * BATCH + count]:
        tree.append_entry(data)
    tree.close()
    return 0


def _valgrind_version() -> str:
    return subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
