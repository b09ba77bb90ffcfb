"""Benchmark of labels and the scan page.

Labels: how many labels per second render as PNG, as SVG, and as A4 PDF sheet
pages (3x8), beside a bare QR code PNG from ``qrcode`` measured in the same
run (the floor any label renderer pays).

Scan page: the demo log served by ``tizbek serve`` (a real process, SQLite),
50 concurrent scanners fetching lots' scan pages over loopback for a fixed
time (public status, and full records through share links), beside the same
scanners fetching ``GET /v1/log`` (the cheapest endpoint) as the baseline.

Run: ``.venv/bin/python scripts/bench_labels.py`` (``--quick`` for a smoke run).
The last line printed is a JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import qrcode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger.demo import demo_lot  # noqa: E402
from ledger.labels import ids  # noqa: E402
from ledger.labels.render import (  # noqa: E402
    ERROR_CORRECTION,
    GRIDS,
    Label,
    label_png,
    label_svg,
    sheet_pdf,
)
from tests.serving import serving  # noqa: E402
from tests.tizbek_cli import demo_token  # noqa: E402

SCANNERS = 50
BASE = "https://scan.tizbek.kz"


def _rate(work: Callable[[], object], seconds: float) -> float:
    """Calls of ``work`` per second over about ``seconds``."""
    work()  # warm caches (fonts, QR tables)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        count += 1
    return count / elapsed


def _labels(n: int) -> list[Label]:
    return [
        Label(
            url=f"{BASE}/l/{ids.make('B3NC', i)}",
            lot=ids.make("B3NC", i),
            collector="Almaty Collect LLP",
            category="6 · Small IT and telecom equipment",
            weight="182.5 kg",
            leaf="ed341dccba38",
            lang="ru",
        )
        for i in range(n)
    ]


def bench_rendering(seconds: float) -> dict[str, float]:
    labels = _labels(24)
    turn = iter(range(10**9))

    def bare_qr() -> None:
        image = qrcode.make(labels[next(turn) % 24].url, error_correction=qrcode.ERROR_CORRECT_H)
        image.save(io.BytesIO())

    page = GRIDS["3x8"]
    figures = {
        "bare_qr_png_per_s": _rate(bare_qr, seconds),
        "label_png_per_s": _rate(lambda: label_png(labels[next(turn) % 24]), seconds),
        "label_svg_per_s": _rate(lambda: label_svg(labels[next(turn) % 24]), seconds),
        "pdf_pages_per_s": _rate(lambda: sheet_pdf(labels, layout=page), seconds),
    }
    figures["pdf_labels_per_s"] = figures["pdf_pages_per_s"] * 24
    return figures


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99)] * 1e3


async def _scan(base: str, paths: list[str], seconds: float) -> tuple[float, float, float]:
    """``SCANNERS`` clients fetching random ``paths`` for ``seconds``: rate, p50, p99."""
    limits = httpx.Limits(max_connections=SCANNERS)
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        stop = False

        async def scanner(seed: int) -> None:
            rng = random.Random(seed)
            while not stop:
                t0 = time.perf_counter()
                answer = await client.get(rng.choice(paths), headers={"accept-language": "kk"})
                times.append(time.perf_counter() - t0)
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")

        tasks = [asyncio.create_task(scanner(n)) for n in range(SCANNERS)]
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        stop = True
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    p50, p99 = _ms(times)
    return len(times) / elapsed, p50, p99


def bench_scan_page(lots: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(
        prefix="tizbek-labels-bench-", ignore_cleanup_errors=True
    ) as work:
        return _scan_page_in(Path(work), lots, seconds)


def _scan_page_in(work: Path, lots: int, seconds: float) -> dict[str, float]:
    made = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--no-serve", "--lots", str(lots), "--dir", "d"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    token = demo_token(made.stdout)
    env = {
        "TIZBEK_DATABASE_URL": f"sqlite:///{work / 'd' / 'demo.db'}",
        "TIZBEK_KEY_DIR": str(work / "d" / "keys"),
        "TIZBEK_RATE_LIMIT": "0",
    }
    figures: dict[str, float] = {}
    with serving(env, work) as base:
        public = [f"/l/{demo_lot(n)}" for n in range(lots)]
        shared = []
        for n in range(min(lots, 50)):
            link = httpx.post(
                f"{base}/v1/lots/{demo_lot(n)}/share",
                headers={"authorization": f"Bearer {token}"},
            ).json()["url"]
            url = httpx.URL(link)
            shared.append(f"{url.path}?{url.query.decode()}")
        for name, paths in (("log", ["/v1/log"]), ("public", public), ("full", shared)):
            rate, p50, p99 = asyncio.run(_scan(base, paths, seconds))
            figures[f"scan_{name}_per_s"] = rate
            figures[f"scan_{name}_p50_ms"] = p50
            figures[f"scan_{name}_p99_ms"] = p99
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, a smoke test")
    args = parser.parse_args()
    seconds, scan_seconds, lots = (1.0, 2.0, 20) if args.quick else (5.0, 15.0, 200)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"QR error correction {ERROR_CORRECTION}; 70 x 37 mm labels at 300 dpi; A4 3x8 sheets")
    render = bench_rendering(seconds)
    bare = render["bare_qr_png_per_s"]
    print(f"bare QR code PNG (qrcode)  {bare:8.1f} /s   (baseline)")
    for key, what in (
        ("label_png_per_s", "label PNG"),
        ("label_svg_per_s", "label SVG"),
        ("pdf_labels_per_s", "labels on PDF pages"),
    ):
        print(f"{what:<26} {render[key]:8.1f} /s   ({render[key] / bare:.2f}x the bare QR)")
    print(f"PDF sheet pages (24 each)  {render['pdf_pages_per_s']:8.1f} /s")
    scan = bench_scan_page(lots, scan_seconds)
    print(f"\nscan page, {SCANNERS} concurrent scanners, demo log with {lots} lots, SQLite:")
    for name, what in (
        ("log", "GET /v1/log (baseline)"),
        ("public", "public status"),
        ("full", "full record (share link)"),
    ):
        print(
            f"  {what:<26} {scan[f'scan_{name}_per_s']:7.1f} /s  "
            f"p50 {scan[f'scan_{name}_p50_ms']:6.1f} ms  p99 {scan[f'scan_{name}_p99_ms']:6.1f} ms"
        )
    headline = {
        "label_png_per_s": round(render["label_png_per_s"], 1),
        "label_svg_per_s": round(render["label_svg_per_s"], 1),
        "pdf_pages_per_s": round(render["pdf_pages_per_s"], 2),
        "ratio_png_to_bare_qr": round(render["label_png_per_s"] / bare, 3),
        "scan_public_p50_ms": round(scan["scan_public_p50_ms"], 1),
        "scan_public_p99_ms": round(scan["scan_public_p99_ms"], 1),
        "scan_full_p50_ms": round(scan["scan_full_p50_ms"], 1),
        "scan_full_p99_ms": round(scan["scan_full_p99_ms"], 1),
        "scan_public_per_s": round(scan["scan_public_per_s"], 1),
        "ratio_scan_public_p50_to_log": round(
            scan["scan_public_p50_ms"] / scan["scan_log_p50_ms"], 2
        ),
    }
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
