"""Benchmark of the HTTP API: `tizbek serve` as a real process, load from another process.

64 simulated collector devices each sign lots and submit them one at a time
(waiting for each answer): flat out, while readers fetch inclusion proofs and
lots; then paced, with submissions falling due at random moments, 1,100 a
second in all whatever the server's latency (an open stream of arrivals
served by the 64 devices); then readers alone fetch proofs. On SQLite and on
PostgreSQL, each served by two workers, one per core of the machine the
targets were set on (``--sqlite-workers 1`` serves SQLite from one process, as
``tizbek demo`` does). The server runs with the rate limit off. First, as a
baseline measured in the same run, the same readers fetch a fixed answer from
``scripts/bare_asgi.py`` under uvicorn with the same workers: what HTTP alone
allows on the machine at that moment; the API's rates are also printed as
shares of it.

Run: ``.venv/bin/python scripts/bench_api.py`` (``--quick`` for a smoke run,
``--no-pg`` for SQLite only). The last line printed is a JSON object of the
headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_logs import PG_DEFAULT, scratch_pg  # noqa: E402

from ledger.demo import lot_fields  # noqa: E402
from ledger.events import make_event, sign_event  # noqa: E402
from ledger.keys import SigningKey  # noqa: E402
from ledger.labels import ids  # noqa: E402
from tests.serving import free_port, serving, wait_until_up  # noqa: E402

DEVICES = 64
ORGS = 8


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99)] * 1e3


def _tizbek(*args: str, env: dict[str, str], cwd: Path) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout


def _setup(base: str, origin: str, authority: SigningKey) -> list[tuple[str, bytes, str]]:
    """Register the collectors, bind 64 device keys and issue each device a block of labels;
    return (org, key seed, label block) per device."""
    devices = []
    blocks: set[str] = set()
    with httpx.Client(base_url=base, timeout=30) as client:

        def post(key: SigningKey, actor: str, etype: str, **fields: Any) -> None:
            event = make_event(etype, log=origin, actor=actor, key=key, **fields)
            answer = client.post("/v1/events", json=sign_event(key, event).to_json())
            if answer.is_error:
                raise SystemExit(f"setting up: {etype} refused: {answer.text}")

        for n in range(ORGS):
            org = f"collector-{n}"
            post(
                authority,
                "kz-eco",
                "org.registered",
                org=org,
                name=org,
                bin=f"{210440000000 + n:012d}",
                roles=["collector"],
                country="KZ",
                region="Almaty",
            )
            for _ in range(DEVICES // ORGS):
                seed = os.urandom(32)
                key = SigningKey.from_seed(seed)
                post(
                    authority,
                    "kz-eco",
                    "key.bound",
                    org=org,
                    public_key=key.public.base64,
                    key_id=key.key_id,
                    label="device",
                )
                block = ids.random_block()
                while block in blocks:  # the log refuses a block issued before (64 draws: 1 in 460)
                    block = ids.random_block()
                blocks.add(block)
                post(
                    authority,
                    "kz-eco",
                    "labels.issued",
                    org=org,
                    block=block,
                    count=ids.MAX_ISSUE,
                )
                devices.append((org, seed, block))
    return devices


def _load(
    base: str,
    origin: str,
    seeds: list[tuple[str, bytes, str]],
    each: int,
    token: str,
    readers: int,
    read_seconds: float,
    out: Any,
) -> None:
    """The load process: devices submitting with readers alongside, then readers alone."""
    devices = [(org, SigningKey.from_seed(seed), block) for org, seed, block in seeds]
    bodies = [
        [
            json.dumps(
                sign_event(
                    key,
                    make_event(
                        "lot.registered",
                        log=origin,
                        actor=org,
                        key=key,
                        **lot_fields(ids.make(block, n)),
                    ),
                ).to_json()
            ).encode()
            for n in range(each)
        ]
        for org, key, block in devices
    ]
    out.put(asyncio.run(_drive(base, bodies, token, readers, read_seconds)))


async def _drive(
    base: str, bodies: list[list[bytes]], token: str, readers: int, read_seconds: float
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=DEVICES + readers)
    auth = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        writes: list[float] = []
        reads: list[float] = []

        async def device(mine: list[bytes]) -> None:
            for body in mine:
                t0 = time.perf_counter()
                answer = await client.post(
                    "/v1/events", content=body, headers={"content-type": "application/json"}
                )
                writes.append(time.perf_counter() - t0)
                if answer.status_code != 201:
                    raise RuntimeError(answer.text)

        async def reader(log: list[float], stop: list[bool]) -> None:
            rng = random.Random()
            while not stop[0]:
                size = (await client.get("/v1/log")).json()["size"]
                t0 = time.perf_counter()
                answer = await client.get(
                    "/v1/proof/inclusion", params={"seq": rng.randrange(size), "size": size}
                )
                log.append(time.perf_counter() - t0)
                answer.raise_for_status()
                t0 = time.perf_counter()
                await client.get("/v1/lots", params={"limit": 5}, headers=auth)
                log.append(time.perf_counter() - t0)

        stop = [False]
        background = [asyncio.create_task(reader(reads, stop)) for _ in range(readers // 4)]
        start = time.perf_counter()
        await asyncio.gather(*(device(b) for b in bodies))
        write_s = time.perf_counter() - start
        stop[0] = True
        await asyncio.gather(*background)
        mixed_reads = len(reads)

        proofs: list[float] = []
        stop2 = [False]

        async def prover() -> None:
            rng = random.Random()
            size = (await client.get("/v1/log")).json()["size"]
            while not stop2[0]:
                t0 = time.perf_counter()
                answer = await client.get(
                    "/v1/proof/inclusion", params={"seq": rng.randrange(size), "size": size}
                )
                proofs.append(time.perf_counter() - t0)
                answer.raise_for_status()

        tasks = [asyncio.create_task(prover()) for _ in range(readers)]
        t0 = time.perf_counter()
        await asyncio.sleep(read_seconds)
        stop2[0] = True
        await asyncio.gather(*tasks)
        read_s = time.perf_counter() - t0
    w50, w99 = _ms(writes)
    r50, r99 = _ms(proofs)
    return {
        "appends_per_s": len(writes) / write_s,
        "append_p50_ms": w50,
        "append_p99_ms": w99,
        "reads_during_appends_per_s": mixed_reads / write_s,
        "proof_reads_per_s": len(proofs) / read_s,
        "proof_p50_ms": r50,
        "proof_p99_ms": r99,
    }


WRK = Path(__file__).with_name("wrk")
#: The paced run's offered load: appends/s over all devices, a little above the 1,000/s target.
PACED = 1100


def _wrk(base: str, script: str, connections: int, seconds: float, *args: str) -> dict[str, Any]:
    """Run ``wrk`` with one of scripts/wrk/*.lua; return the figures its script prints."""
    run = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK / script),
            base,
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in run.stdout.splitlines() if x.startswith("TIZBEK "))
    figures: dict[str, Any] = json.loads(line.removeprefix("TIZBEK "))
    return figures


def bare_http(workers: int, connections: int, seconds: float) -> float:
    """Requests/s of ``scripts/bare_asgi.py`` under uvicorn with ``workers`` workers: what
    HTTP alone costs on this machine now, the baseline the API's rates are set against."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_asgi:app",
            "--app-dir",
            str(ROOT / "scripts"),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, "the bare ASGI server")
        # The proof readers' own requests (the bare application answers any path alike).
        figures = _wrk(base, "proofs.lua", connections, seconds, "100000")
    finally:
        server.terminate()
        server.wait(timeout=20)
    if figures["failed"]:
        raise RuntimeError(f"the bare ASGI server failed {figures['failed']} requests")
    return float(figures["requests"]) / float(figures["seconds"])


def _signed_bodies(
    origin: str, seeds: list[tuple[str, bytes, str]], count: int, path: Path, first: int = 0
) -> None:
    """Write ``count`` signed lot registrations, one JSON per line, spread over the devices,
    taking the devices' labels from number ``first`` on."""
    devices = [(org, SigningKey.from_seed(seed), block) for org, seed, block in seeds]
    with path.open("w", encoding="utf-8") as out:
        for n in range(first, first + count):
            org, key, block = devices[n % len(devices)]
            event = make_event(
                "lot.registered",
                log=origin,
                actor=org,
                key=key,
                **lot_fields(ids.make(block, n // len(devices))),
            )
            out.write(json.dumps(sign_event(key, event).to_json()) + "\n")


def _wrk_load(
    base: str,
    origin: str,
    seeds: list[tuple[str, bytes, str]],
    seconds: float,
    readers: int,
    read_seconds: float,
    work: Path,
    token: str,
) -> dict[str, float]:
    """Devices (64 connections) posting signed submissions with readers alongside (proofs and
    lots' records, half each), then proof readers alone, all driven by wrk (C, one process,
    two threads)."""
    bodies = work / "bodies.jsonl"
    # A few hundred lots first, for the readers to read while the devices post more.
    _signed_bodies(origin, seeds, 500, bodies, first=10**6)
    _wrk(base, "submit.lua", DEVICES, 1, str(bodies), "2")
    found = httpx.get(
        f"{base}/v1/lots", params={"limit": 1000}, headers={"authorization": f"Bearer {token}"}
    ).json()
    lots = work / "lots.txt"
    lots.write_text("".join(f"{doc['id']}\n" for doc in found))
    _signed_bodies(origin, seeds, int(3000 * seconds), bodies)
    size = httpx.get(f"{base}/v1/log").json()["size"]
    with ThreadPoolExecutor(2) as pool:
        alongside = pool.submit(
            _wrk, base, "proofs.lua", max(1, readers // 4), seconds, str(size), token, str(lots)
        )
        writes = _wrk(base, "submit.lua", DEVICES, seconds, str(bodies), "2")
        mixed = alongside.result()
    # The same devices paced to PACED appends/s between them: submissions fall due at random
    # moments, PACED a second on average whatever the server's latency (an open stream of
    # arrivals, not a think time after each answer, which would offer less as the server
    # slowed), each sent by the first device free once it is due.
    first = int(3000 * seconds)
    _signed_bodies(origin, seeds, int(1.5 * PACED * seconds), bodies, first=first)
    paced = _wrk(base, "submit.lua", DEVICES, seconds, str(bodies), "2", f"{1000 / PACED:.4f}")
    for run in (writes, paced):
        if run["spent"] or run["other"]:
            print(
                f"  warning: {run['spent']} requests after the bodies ran out, "
                f"{run['other']} answers other than 201"
            )
    size = httpx.get(f"{base}/v1/log").json()["size"]
    proofs = _wrk(base, "proofs.lua", readers, read_seconds, str(size))
    return {
        "appends_per_s": writes["created"] / writes["seconds"],
        "append_p50_ms": writes["p50_ms"],
        "append_p99_ms": writes["p99_ms"],
        "paced_appends_per_s": paced["created"] / paced["seconds"],
        "paced_append_p50_ms": paced["p50_ms"],
        "paced_append_p99_ms": paced["p99_ms"],
        "paced_offered_per_s": PACED,
        "reads_during_appends_per_s": mixed["requests"] / mixed["seconds"],
        "lot_reads_during_appends_per_s": mixed["records"] / mixed["seconds"],
        "proof_reads_per_s": proofs["requests"] / proofs["seconds"],
        "proof_p50_ms": proofs["p50_ms"],
        "proof_p99_ms": proofs["p99_ms"],
    }


def run(
    name: str, url: str, workers: int, each: int, readers: int, read_s: float, use_wrk: bool
) -> dict[str, float]:
    """Start a server on ``url`` and drive it; return the figures."""
    with tempfile.TemporaryDirectory(
        prefix="tizbek-api-bench-", ignore_cleanup_errors=True
    ) as work:
        return _run_in(Path(work), name, url, workers, each, readers, read_s, use_wrk)


def _run_in(
    work: Path,
    name: str,
    url: str,
    workers: int,
    each: int,
    readers: int,
    read_s: float,
    use_wrk: bool,
) -> dict[str, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TIZBEK_DATABASE_URL": url,
        "TIZBEK_KEY_DIR": str(work / "keys"),
        "TIZBEK_RATE_LIMIT": "0",
    }
    _tizbek(
        "init", "--origin", "bench.tizbek.kz/log", "--authority-id", "kz-eco", env=env, cwd=work
    )
    with serving(env, work, workers=workers) as base:
        authority = SigningKey.load(work / "keys" / "authority.key")
        devices = _setup(base, "bench.tizbek.kz/log", authority)
        token = _tizbek(
            "token",
            "create",
            "--org",
            "kz-eco",
            "--role",
            "inspector",
            "--label",
            "bench",
            env=env,
            cwd=work,
        ).splitlines()[-1]
        seeds = devices
        if use_wrk:
            figures: dict[str, float] = _wrk_load(
                base, "bench.tizbek.kz/log", seeds, read_s, readers, read_s, work, token
            )
            _report(name, workers, readers, figures)
            return figures
        out: Any = multiprocessing.get_context("spawn").Queue()
        load = multiprocessing.get_context("spawn").Process(
            target=_load,
            args=(base, "bench.tizbek.kz/log", seeds, each, token, readers, read_s, out),
        )
        load.start()
        figures = out.get(timeout=1800)
        load.join()
    _report(name, workers, readers, figures)
    return figures


def _report(name: str, workers: int, readers: int, figures: dict[str, float]) -> None:
    print(f"\n{name} ({workers} worker{'s' if workers > 1 else ''}):")
    print(
        f"  appends/s {figures['appends_per_s']:,.0f}  p50 {figures['append_p50_ms']:.1f} ms"
        f"  p99 {figures['append_p99_ms']:.1f} ms  ({DEVICES} devices)"
    )
    if "paced_appends_per_s" in figures:
        print(
            f"  paced: appends/s {figures['paced_appends_per_s']:,.0f}  "
            f"p50 {figures['paced_append_p50_ms']:.1f} ms  "
            f"p99 {figures['paced_append_p99_ms']:.1f} ms  ({DEVICES} devices, "
            f"{figures['paced_offered_per_s']:,.0f} offered/s)"
        )
    lots = figures.get("lot_reads_during_appends_per_s")
    of_lots = f" ({lots:,.0f} of them lots' records, the rest proofs)" if lots is not None else ""
    print(f"  reads/s alongside {figures['reads_during_appends_per_s']:,.0f}{of_lots}")
    print(
        f"  proof reads/s {figures['proof_reads_per_s']:,.0f}  p50 {figures['proof_p50_ms']:.1f} ms"
        f"  p99 {figures['proof_p99_ms']:.1f} ms  ({readers} readers)"
    )


def _ratios(figures: dict[str, float], bare: float | None) -> dict[str, float]:
    """The API's rates as shares of bare HTTP's on the same workers (none without it),
    printed as they are worked out."""
    if bare is None:
        return {}
    ratios = {
        "appends_ratio_to_bare_http": figures["appends_per_s"] / bare,
        "proof_reads_ratio_to_bare_http": figures["proof_reads_per_s"] / bare,
    }
    print(
        f"  against bare HTTP: appends {ratios['appends_ratio_to_bare_http']:.3f}x, "
        f"proof reads {ratios['proof_reads_ratio_to_bare_http']:.3f}x"
    )
    return ratios


def _headline(db: str, figures: dict[str, float], bare: float | None) -> dict[str, float]:
    """One database's figures and ratios for the JSON line, named after ``db``."""
    found = {f"{db}_{key}": round(value, 2) for key, value in figures.items()}
    found.update({f"{db}_{key}": round(value, 4) for key, value in _ratios(figures, bare).items()})
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("TIZBEK_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument(
        "--load",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator: wrk (apt install wrk; the default when installed) or Python httpx",
    )
    parser.add_argument("--pg-workers", type=int, default=2, help="server workers on PostgreSQL")
    parser.add_argument(
        "--sqlite-workers",
        type=int,
        default=2,
        help="server workers on SQLite (more than one: the serving process sequences for them)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    use_wrk = args.load == "wrk"
    each, readers, read_s = (5, 16, 2.0) if args.quick else (40, 32, 10.0)
    print(
        f"Tizbek API benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load from {args.load}"
    )
    headline: dict[str, float] = {}
    bare: dict[int, float] = {}
    if use_wrk:
        # The baseline, in the same run: bare HTTP on the same server stack and worker counts.
        served = [] if args.no_sqlite else [args.sqlite_workers]
        served += [] if args.no_pg else [args.pg_workers]
        for workers in sorted(set(served)):
            bare[workers] = bare_http(workers, readers, read_s)
            headline[f"bare_http_requests_per_s_{workers}_workers"] = round(bare[workers], 2)
            print(
                f"\nBaseline: bare HTTP (scripts/bare_asgi.py, uvicorn, {workers} "
                f"worker{'s' if workers > 1 else ''}): {bare[workers]:,.0f} requests/s "
                f"({readers} connections)"
            )
    with tempfile.TemporaryDirectory(prefix="tizbek-api-db-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        if not args.no_sqlite:
            sqlite_url = f"sqlite:///{work / 'api.db'}"
            figures = run("SQLite", sqlite_url, args.sqlite_workers, each, readers, read_s, use_wrk)
            headline.update(_headline("sqlite", figures, bare.get(args.sqlite_workers)))
        if not args.no_pg:
            url, drop = scratch_pg(args.pg_url)
            try:
                figures = run("PostgreSQL", url, args.pg_workers, each, readers, read_s, use_wrk)
                headline.update(_headline("postgresql", figures, bare.get(args.pg_workers)))
            finally:
                drop()
    ok = True
    print(
        "\nTargets: >= 1,000 appends/s with p99 <= 100 ms (at saturation, or paced over "
        "1,000/s); >= 3,000 proof reads/s"
    )
    for db in ("sqlite", "postgresql"):
        if f"{db}_appends_per_s" not in headline:
            continue
        # Met at saturation, or by devices paced to a little over 1,000/s: 1,000 appends/s
        # or more answered within 100 ms at the 99th percentile, either way.
        runs = [(headline[f"{db}_appends_per_s"], headline[f"{db}_append_p99_ms"])]
        if f"{db}_paced_appends_per_s" in headline:
            runs.append(
                (headline[f"{db}_paced_appends_per_s"], headline[f"{db}_paced_append_p99_ms"])
            )
        appends = any(rate >= 1000 and p99 <= 100 for rate, p99 in runs)
        met = appends and headline[f"{db}_proof_reads_per_s"] >= 3000
        ok &= met
        print(f"  {db}: {'met' if met else 'NOT met'}")
    print(json.dumps(headline, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
