"""Signed monthly reports: computed at a checkpoint, signed by the log, checked, derived again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.errors import VerificationError
from ledger.insight.reports import check_report, sign_report
from ledger.keys import SigningKey
from ledger.note import NoteSigner, VerifierKey
from ledger.storage.engine import make_engine
from ledger.storage.reports import facility_report, rederive
from tests.tizbek_cli import demo_token, run_tizbek

RECYCLER = "karaganda-recycling"
#: The demo's second journey: weighed at the recycler four hours ago, accepted, not yet treated.
SHORT_WEIGHED_G = 84_700


def _month(hours_ago: float) -> str:
    """The Almaty month (UTC+5) of a moment some hours ago, as the demo dates its events."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago) + dt.timedelta(hours=5)
    return moment.strftime("%Y-%m")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    where = tmp_path_factory.mktemp("reports")
    made = run_tizbek("demo", "--no-serve", "--lots", "2", "--dir", "d", cwd=where)
    assert made.returncode == 0, made.stderr
    env = {
        "TIZBEK_DATABASE_URL": f"sqlite:///{where / 'd' / 'demo.db'}",
        "TIZBEK_KEY_DIR": str(where / "d" / "keys"),
    }
    return where, env, demo_token(made.stdout)


def test_a_facility_month_signed_checked_and_derived_again(
    demo: tuple[Path, dict[str, str], str],
) -> None:
    where, env, _token = demo
    month = _month(12)  # the demo's receipt, twelve hours ago
    run = run_tizbek(
        "report", "facility", RECYCLER, "--month", month, "--out", "r.json", cwd=where, env=env
    )
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads((where / "r.json").read_text())
    figures = report["figures"]
    short = SHORT_WEIGHED_G if _month(4) == month else 0
    assert figures["received_g"] == 2 * 181_900 + short
    assert figures["opening_stock_g"] == 0
    if _month(2) == month:  # treated two hours ago, in the same month
        assert (figures["processed_g"], figures["outputs_g"]) == (2 * 181_900, 2 * 181_900)
        assert (figures["closing_stock_g"], figures["unaccounted_g"]) == (short, 0)
        assert {m["material"] for m in report["materials"]} >= {"ferrous", "residues"}
    assert report["subject"]["region"] == "Karaganda Region"
    with TestClient(create_app(env["TIZBEK_DATABASE_URL"], Path(env["TIZBEK_KEY_DIR"]))) as client:
        log_key = client.get("/v1/log").json()["verifier_key"]
        size = int(client.get("/v1/checkpoint").text.splitlines()[1])
    assert report["checkpoint"]["size"] == size  # the latest signed checkpoint
    checked = run_tizbek(
        "report",
        "check",
        "r.json",
        "--log-key",
        log_key,
        "--db",
        env["TIZBEK_DATABASE_URL"],
        cwd=where,
    )
    assert checked.returncode == 0, checked.stderr
    assert f"every figure derives again from the log at size {size}" in checked.stdout

    # One figure changed: the signature no longer verifies.
    forged = dict(report, figures=dict(figures, received_g=figures["received_g"] + 1))
    (where / "forged.json").write_text(json.dumps(forged))
    bad = run_tizbek("report", "check", "forged.json", "--log-key", log_key, cwd=where)
    assert bad.returncode == 1
    assert "signature does not verify" in bad.stderr
    # Re-signed with another key: refused against the log's key.
    other = NoteSigner(log_key.split("+")[0], SigningKey.generate())
    body = {k: v for k, v in forged.items() if k != "signature"}
    (where / "resigned.json").write_text(json.dumps(sign_report(body, other)))
    resigned = run_tizbek("report", "check", "resigned.json", "--log-key", log_key, cwd=where)
    assert resigned.returncode == 1
    assert "another key than the log's" in resigned.stderr
    # Signed by the log but with figures the log does not give: derivation says which.
    engine = make_engine(env["TIZBEK_DATABASE_URL"])
    try:
        assert rederive(engine, report) == []
        assert rederive(engine, forged) == ["figures"]
    finally:
        engine.dispose()


def test_the_pdf_and_the_api(demo: tuple[Path, dict[str, str], str]) -> None:
    where, env, token = demo
    month = _month(12)
    run = run_tizbek(
        "report",
        "region",
        "Karaganda Region",
        "--month",
        month,
        "--out",
        "r.pdf",
        cwd=where,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    page = pdfium.PdfDocument(str(where / "r.pdf"))[0]
    text = page.get_textpage().get_text_range()
    assert "Tizbek report: Region Karaganda Region" in text
    assert "Report signature, key demo.tizbek.kz/log+" in text

    headers = {"authorization": f"Bearer {token}"}
    with TestClient(create_app(env["TIZBEK_DATABASE_URL"], Path(env["TIZBEK_KEY_DIR"]))) as client:
        log_key = VerifierKey.parse(client.get("/v1/log").json()["verifier_key"])
        got = client.get(
            f"/v1/reports/facility/{RECYCLER}", params={"month": month}, headers=headers
        )
        assert got.status_code == 200, got.text
        report = got.json()
        assert check_report(report, log_key) == log_key
        short = SHORT_WEIGHED_G if _month(4) == month else 0
        assert report["figures"]["received_g"] == 2 * 181_900 + short
        region = client.get(
            "/v1/reports/region/Karaganda Region",
            params={"month": month, "format": "pdf"},
            headers=headers,
        )
        assert region.headers["content-type"] == "application/pdf"
        assert region.content.startswith(b"%PDF")
        unknown = client.get(
            "/v1/reports/facility/nobody", params={"month": month}, headers=headers
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_org")
        bad = client.get(
            f"/v1/reports/facility/{RECYCLER}", params={"month": "2026-13"}, headers=headers
        )
        assert bad.status_code == 400
        assert client.get(f"/v1/reports/facility/{RECYCLER}?month={month}").status_code == 401
    with pytest.raises(VerificationError, match="not a tizbek-report/1"):
        check_report({"format": "other"})
    engine = make_engine(env["TIZBEK_DATABASE_URL"])
    try:
        with pytest.raises(ValueError, match="YYYY-MM"):
            facility_report(engine, RECYCLER, "2026-1")
    finally:
        engine.dispose()
    refused = run_tizbek(
        "report", "facility", RECYCLER, "--month", "May", "--out", "x.json", cwd=where, env=env
    )
    assert refused.returncode == 2
    assert "a month is YYYY-MM" in refused.stderr
