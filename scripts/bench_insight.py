"""Benchmark of the inspectors' findings and statistics over a large log, SQLite and PostgreSQL.

Builds a real log through the append path (every entry signed, checked by the
custody rules and committed, 16 submitting threads): collectors register lots,
dispatch each to a licensed recycler through a transporter, who takes it over;
the recycler weighs and processes it. Some lots are left for the findings to
find: still in transit, short at receipt beyond the discrepancy threshold,
never dispatched, or a few per cent light on one carrier's trucks. Then it
times each kind of finding and all of them together, as of 40 days after the
story (so the time limits have passed), beside ``SELECT count(*) FROM lots``
on the same database as the baseline.

Run: ``.venv/bin/python scripts/bench_insight.py`` (200,000 lots, about
1,000,000 entries; ``--lots N`` for another size, ``--no-pg`` for SQLite only).
The last line printed is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_logs import PG_DEFAULT, scratch_pg  # noqa: E402

from ledger.demo import lot_fields  # noqa: E402
from ledger.events import make_event, sign_event, utc_now  # noqa: E402
from ledger.insight.limits import KINDS, Limits  # noqa: E402
from ledger.keys import SigningKey  # noqa: E402
from ledger.labels import ids  # noqa: E402
from ledger.storage.create import create_log  # noqa: E402
from ledger.storage.engine import make_engine  # noqa: E402
from ledger.storage.findings import findings, stamp  # noqa: E402
from ledger.storage.sequencer import GroupCommitter  # noqa: E402
from ledger.storage.sqllog import SqlLog  # noqa: E402
from ledger.storage.stats import Scope  # noqa: E402
from ledger.storage.stats import statistics as national_statistics  # noqa: E402

ORIGIN = "insight.tizbek.kz/log"
AUTHORITY = "kz-eco"
THREADS = 16
COLLECTORS = [f"collector-{n}" for n in range(THREADS)]
CARRIERS = [f"carrier-{n}" for n in range(4)]
RECYCLERS = [f"recycler-{n}" for n in range(4)]
PRODUCER = "producer-0"
#: Every step of a lot's journey is signed at one moment, the receipt three hours after
#: the dispatch: the way from Almaty to the recyclers of Karaganda takes that long.
ROAD_HOURS = 3


class Builder:
    """Signs and appends the story of many lots from several threads."""

    def __init__(self, url: str, work: Path) -> None:
        create_log(
            url, keys=work / "keys", origin=ORIGIN, authority_id=AUTHORITY, authority_name="A"
        )
        self.engine = make_engine(url)
        self.log = SqlLog.open(self.engine, work / "keys" / "log.key")
        self.keys = {AUTHORITY: SigningKey.load(work / "keys" / "authority.key")}
        self.blocks: dict[str, str] = {}

    def sign(self, actor: str, etype: str, **fields: Any) -> Any:
        key = self.keys[actor]
        return sign_event(key, make_event(etype, log=ORIGIN, actor=actor, key=key, **fields))

    def registry(self) -> None:
        year = int(utc_now()[:4])
        orgs = [(c, "collector") for c in COLLECTORS] + [(c, "transporter") for c in CARRIERS]
        orgs += [(r, "recycler") for r in RECYCLERS] + [(PRODUCER, "producer")]
        for n, (org, role) in enumerate(orgs):
            self.keys[org] = SigningKey.generate()
            self.log.append(
                self.sign(
                    AUTHORITY,
                    "org.registered",
                    org=org,
                    name=org,
                    bin=f"{100000000000 + n:012d}",
                    roles=[role],
                    country="KZ",
                    region="Karaganda Region" if org in RECYCLERS[::2] else "Almaty",
                )
            )
            self.log.append(
                self.sign(
                    AUTHORITY,
                    "key.bound",
                    org=org,
                    public_key=self.keys[org].public.base64,
                    key_id=self.keys[org].key_id,
                    label="bench",
                )
            )
        for org in RECYCLERS:
            self.log.append(
                self.sign(
                    AUTHORITY,
                    "license.granted",
                    org=org,
                    license=f"L-{org}",
                    valid_from=f"{year - 1}-01-01",
                    valid_to=f"{year + 1}-12-31",
                    waste_codes=["20 01 35*"],
                    categories=[6],
                    operations=["R4"],
                )
            )

    def issue(self, collector: str, count: int) -> None:
        block = ids.random_block()
        while block in self.blocks.values():
            block = ids.random_block()
        self.blocks[collector] = block
        self.log.append(
            self.sign(AUTHORITY, "labels.issued", org=collector, block=block, count=count)
        )

    def lots(self, committer: GroupCommitter, collector: str, count: int, seed: int) -> None:
        rng = random.Random(seed)
        for n in range(count):
            lot = ids.make(self.blocks[collector], n)
            roll = rng.random()
            weight = rng.randint(5_000, 250_000)
            departed = stamp(dt.datetime.now(dt.UTC) - dt.timedelta(hours=ROAD_HOURS))
            fields = lot_fields(lot, weight_g=weight, at=departed)
            if n % 10 == 0:
                fields["producer"] = PRODUCER  # an EPR take-back
            entry, _ = committer.submit(self.sign(collector, "lot.registered", **fields))
            if roll < 0.01:
                continue  # never dispatched
            carrier, recycler = rng.choice(CARRIERS), rng.choice(RECYCLERS)
            transfer = f"T-{lot}"
            sent, _ = committer.submit(
                self.sign(
                    collector,
                    "transfer.dispatched",
                    transfer=transfer,
                    lots=[{"lot": lot, "after": entry.hash.hex(), "weight_g": weight}],
                    to=recycler,
                    transporter=carrier,
                    at=departed,
                )
            )
            taken, _ = committer.submit(
                self.sign(
                    carrier,
                    "transfer.taken_over",
                    transfer=transfer,
                    after=sent.hash.hex(),
                    at=departed,
                )
            )
            if roll < 0.03:
                continue  # still in transit
            if roll < 0.04:
                measured = weight * 70 // 100  # short beyond the discrepancy threshold
            elif carrier == CARRIERS[0]:
                measured = weight * 92 // 100  # one carrier's trucks arrive light
            else:
                measured = weight - rng.randint(0, weight // 200)
            got, _ = committer.submit(
                self.sign(
                    recycler,
                    "transfer.received",
                    transfer=transfer,
                    after=taken.hash.hex(),
                    lots=[
                        {
                            "lot": lot,
                            "after": sent.hash.hex(),
                            "weight_g": measured,
                            "outcome": "accepted",
                        }
                    ],
                )
            )
            # One lot in a hundred loses a fifth of its weight in treatment: a mass-balance gap.
            kept = measured * 4 // 10 if 0.04 <= roll < 0.05 else measured // 2
            committer.submit(
                self.sign(
                    recycler,
                    "lot.processed",
                    lot=lot,
                    after=got.hash.hex(),
                    operation="R4",
                    outputs=[
                        {
                            "waste_code": "19 12 02",
                            "material": "ferrous",
                            "weight_g": kept,
                        },
                        {
                            "waste_code": "19 12 04",
                            "material": "plastics",
                            "weight_g": kept,
                        },
                    ],
                )
            )


def _vacuum_while(engine: Any, stop: threading.Event, every: float = 30.0) -> None:
    """On a PostgreSQL whose autovacuum is off, do its work while the log grows.

    Every lot's document, typed row and head are rewritten at each step of its
    journey; without vacuuming, the dead versions pile up in the indexes and
    appends slow down twentyfold within 150,000 entries. A production server
    runs autovacuum; this machine's is off, so the benchmark does what it would.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        if conn.exec_driver_sql("SHOW autovacuum").scalar_one() == "on":
            return
    while not stop.wait(every):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def _median_s(run: Any, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench(name: str, url: str, lots: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tizbek-insight-", ignore_cleanup_errors=True) as work:
        return _bench_in(Path(work), name, url, lots)


def _bench_in(work: Path, name: str, url: str, lots: int) -> dict[str, float]:
    builder = Builder(url, work)
    builder.registry()
    each = lots // THREADS
    for collector in COLLECTORS:
        builder.issue(collector, each)
    start = time.perf_counter()
    stop = threading.Event()
    housekeeper = threading.Thread(target=_vacuum_while, args=(builder.engine, stop), daemon=True)
    housekeeper.start()
    with GroupCommitter(builder.log) as committer:
        threads = [
            threading.Thread(target=builder.lots, args=(committer, c, each, n))
            for n, c in enumerate(COLLECTORS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    stop.set()
    housekeeper.join()
    built = time.perf_counter() - start
    with builder.engine.connect() as conn:
        if builder.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        size = conn.exec_driver_sql("SELECT max(seq) + 1 FROM log_entries").scalar_one()
    later = stamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=40))
    figures: dict[str, float] = {"entries": float(size), "lots": float(each * THREADS)}

    def count() -> None:
        with builder.engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM lots").scalar_one()

    figures["baseline_count_lots_s"] = _median_s(count)
    found_per_kind = {}
    for kind in KINDS:
        found_per_kind[kind] = len(
            findings(builder.engine, at=later, limits=Limits(), kinds=(kind,))
        )
        figures[f"{kind}_s"] = _median_s(
            lambda k=kind: findings(builder.engine, at=later, limits=Limits(), kinds=(k,))
        )
    figures["all_findings_s"] = _median_s(
        lambda: findings(builder.engine, at=later, limits=Limits())
    )
    report = national_statistics(builder.engine, Scope())
    figures["statistics_s"] = _median_s(lambda: national_statistics(builder.engine, Scope()))
    collected = sum(r["collected"]["grams"] for r in report["months"] if "collected" in r)
    print(
        f"\n{name}: {size:,} entries, {each * THREADS:,} lots, built in {built:.0f} s "
        f"({size / built:,.0f} appends/s through the full path)"
    )
    base = figures["baseline_count_lots_s"]
    print(f"  SELECT count(*) FROM lots        {base * 1e3:8.1f} ms  (baseline)")
    for kind in KINDS:
        secs = figures[f"{kind}_s"]
        print(
            f"  {kind:<32} {secs * 1e3:8.1f} ms  {secs / base:6.1f}x  "
            f"({found_per_kind[kind]} found)"
        )
    print(
        f"  all findings                     {figures['all_findings_s'] * 1e3:8.1f} ms  "
        f"{figures['all_findings_s'] / base:6.1f}x"
    )
    print(
        f"  statistics (all figures)         {figures['statistics_s'] * 1e3:8.1f} ms  "
        f"{figures['statistics_s'] / base:6.1f}x  ({collected / 1e6:,.0f} t collected, "
        f"{len(report['months'])} month cells, {len(report['epr'])} producer)"
    )
    builder.log.close()
    builder.engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=200_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("TIZBEK_BENCH_PG_URL", PG_DEFAULT))
    args = parser.parse_args()
    print(f"Tizbek findings benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    headline: dict[str, float] = {}
    with tempfile.TemporaryDirectory(
        prefix="tizbek-insight-db-", ignore_cleanup_errors=True
    ) as tmp:
        work = Path(tmp)
        for key, value in bench("SQLite", f"sqlite:///{work / 'insight.db'}", args.lots).items():
            headline[f"sqlite_{key}"] = round(value, 4)
        if not args.no_pg:
            url, drop = scratch_pg(args.pg_url)
            try:
                for key, value in bench("PostgreSQL", url, args.lots).items():
                    headline[f"postgresql_{key}"] = round(value, 4)
            finally:
                drop()
    ok = all(v < 2.0 for k, v in headline.items() if k.endswith(("all_findings_s", "statistics_s")))
    print(f"\nTarget: findings and statistics each under 2 s: {'met' if ok else 'NOT met'}")
    print(json.dumps(headline, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
