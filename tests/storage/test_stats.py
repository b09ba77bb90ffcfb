"""Statistics over the API and the command line, on the demo log (two lots, two journeys).

The month in Almaty (tests/storage/test_month_in_almaty.py) checks the figures
against totals added up by hand over two hundred lots; here: what inspectors
and operators see, the figures' queries, the estimates file and refusals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.insight.estimates import load_estimates
from ledger.storage.engine import make_engine
from ledger.storage.stats import Scope, figure_rows
from tests.tizbek_cli import demo_token, run_tizbek

LOT_G = 182_500  # each demo lot as registered in Almaty
WEIGHED_G = 181_900  # as weighed at the recycler in Karaganda, and treated
RECYCLED_G = 181_900 - 16_100  # every output but the residues (operation R4)
SHORT_G = 96_000  # the second journey's lot (category 5), as registered in Almaty
SHORT_WEIGHED_G = 84_700  # as weighed in Karaganda: accepted, a discrepancy open, not treated


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    where = tmp_path_factory.mktemp("stats")
    made = run_tizbek("demo", "--no-serve", "--lots", "2", "--dir", "d", cwd=where)
    assert made.returncode == 0, made.stderr
    env = {
        "TIZBEK_DATABASE_URL": f"sqlite:///{where / 'd' / 'demo.db'}",
        "TIZBEK_KEY_DIR": str(where / "d" / "keys"),
    }
    return where, env, demo_token(made.stdout)


def _total(rows: list[dict[str, Any]], measure: str) -> int:
    return sum(row[measure]["grams"] for row in rows if measure in row)


def test_the_demo_in_figures(demo: tuple[Path, dict[str, str], str]) -> None:
    where, env, _token = demo
    (where / "generated.json").write_text('{"Almaty": {"2026": 1000, "2027": 1000}}')
    run = run_tizbek("stats", "--json", "--generated", "generated.json", cwd=where, env=env)
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["zone"] == "Asia/Almaty"
    months = stats["months"]
    assert _total(months, "collected") == 2 * LOT_G + SHORT_G
    assert _total(months, "received") == 2 * WEIGHED_G + SHORT_WEIGHED_G
    assert _total(months, "processed") == 2 * WEIGHED_G
    assert {r["region"] for r in months if "collected" in r} == {"Almaty"}
    assert {r["region"] for r in months if "processed" in r} == {"Karaganda Region"}
    assert {r["category"] for r in months} == {5, 6}
    assert {r["category"] for r in months if "processed" in r} == {6}
    assert _total(stats["years"], "collected") == 2 * LOT_G + SHORT_G
    materials = {r["material"]: r for r in stats["recovered"]}
    assert materials["ferrous"]["grams"] == 2 * 61_000
    assert materials["residues"]["reused_recycled_g"] == 0
    (rate,) = stats["rates"]
    assert (rate["category"], rate["processed_g"], rate["reused_recycled_g"]) == (
        6,
        2 * WEIGHED_G,
        2 * RECYCLED_G,
    )
    assert rate["reuse_recycling_percent"] == round(100 * RECYCLED_G / WEIGHED_G, 1)
    assert (rate["target_reuse_recycling_percent"], rate["target_recovery_percent"]) == (55, 75)
    assert rate["meets_targets"] is True
    assert stats["epr"] == []  # the demo's lots name no producer
    year = months[0]["month"][:4]
    (collection,) = [c for c in stats["collection_rate"] if c["year"] == year]
    assert collection["collected_g"] == 2 * LOT_G + SHORT_G
    assert collection["collection_percent"] == 46.1  # 461 kg of an estimated 1,000 kg

    text = run_tizbek("stats", cwd=where, env=env)
    assert text.returncode == 0, text.stderr
    assert "category 6: 363.8 kg treated, reuse+recycling 91.1 % (target 55 %)" in text.stdout

    # As of an earlier tree size: before the receipt, nothing was received or treated.
    early = json.loads(run_tizbek("stats", "--json", "--size", "13", cwd=where, env=env).stdout)
    assert _total(early["months"], "collected") == 2 * LOT_G
    assert _total(early["months"], "received") == 0


def test_every_figure_leads_to_its_entries(demo: tuple[Path, dict[str, str], str]) -> None:
    _where, env, token = demo
    headers = {"authorization": f"Bearer {token}"}
    with TestClient(create_app(env["TIZBEK_DATABASE_URL"], Path(env["TIZBEK_KEY_DIR"]))) as client:
        stats = client.get("/v1/stats", headers=headers)
        assert stats.status_code == 200, stats.text
        body = stats.json()
        figures = [
            row[m]
            for row in body["months"]
            for m in ("collected", "received", "processed")
            if m in row
        ]
        figures += body["recovered"]
        assert figures
        for figure in figures:
            behind = client.get(figure["query"], headers=headers)
            assert behind.status_code == 200, behind.text
            assert behind.json()["grams"] == figure["grams"]
            for row in behind.json()["rows"]:
                entry = client.get(f"/v1/entries/{row['seq']}", headers=headers).json()
                assert entry["seq"] == row["seq"]
                assert row["lot"] in json.dumps(entry)
        one = client.get(
            "/v1/stats/entries",
            params={"measure": "collected", "region": "Almaty", "category": 6},
            headers=headers,
        ).json()
        assert [r["grams"] for r in one["rows"]] == [LOT_G, LOT_G]
        paged, cursor = [], None
        while True:
            params = {"measure": "recovered", **({"after": cursor} if cursor else {})}
            page = client.get("/v1/stats/entries", params=params, headers=headers).json()
            paged += page["rows"]
            cursor = page["next"]
            if cursor is None:
                break
        assert len(paged) == page["count"] == 12  # six outputs of each of two treatments
        assert sum(r["grams"] for r in paged) == page["grams"] == 2 * WEIGHED_G
        engine = make_engine(env["TIZBEK_DATABASE_URL"])
        try:
            first = figure_rows(engine, "recovered", Scope(), limit=5)
            second = figure_rows(
                engine,
                "recovered",
                Scope(),
                limit=5,
                after=(first["rows"][-1]["seq"], first["rows"][-1]["n"]),
            )
        finally:
            engine.dispose()
        assert [len(first["rows"]), len(second["rows"])] == [5, 5]
        assert first["rows"][-1] != second["rows"][0]
        assert second["next"] is not None
        only_cat_5 = client.get("/v1/stats", params={"category": 5}, headers=headers).json()
        assert {r["category"] for r in only_cat_5["months"]} == {5}
        assert _total(only_cat_5["months"], "collected") == SHORT_G
        assert _total(only_cat_5["months"], "received") == SHORT_WEIGHED_G
        assert _total(only_cat_5["months"], "processed") == 0
        assert client.get("/v1/stats").status_code == 401
        bad = client.get("/v1/stats", params={"category": 9}, headers=headers)
        assert bad.status_code == 400
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert (
            client.get(
                "/v1/stats/entries", params={"measure": "mined"}, headers=headers
            ).status_code
            == 400
        )


def test_members_cannot_read_national_statistics(
    demo: tuple[Path, dict[str, str], str],
) -> None:
    where, env, _token = demo
    made = run_tizbek(
        "token",
        "create",
        "--org",
        "almaty-collect",
        "--role",
        "member",
        "--label",
        "t",
        cwd=where,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    member = made.stdout.strip().splitlines()[-1].split()[-1]
    with TestClient(create_app(env["TIZBEK_DATABASE_URL"], Path(env["TIZBEK_KEY_DIR"]))) as client:
        refused = client.get("/v1/stats", headers={"authorization": f"Bearer {member}"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "inspectors_only"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "must hold an object"),
        ('{"Almaty": {"twenty": 5}}', "must be a year and whole kg"),
        ('{"Almaty": {"2026": 0}}', "more than 0 kg"),
        ("{", "is not JSON"),
    ],
)
def test_bad_estimates_are_refused(
    demo: tuple[Path, dict[str, str], str], content: str, message: str
) -> None:
    where, env, _ = demo
    (where / "bad.json").write_text(content)
    with pytest.raises(ValueError, match=message):
        load_estimates(where / "bad.json")
    run = run_tizbek("stats", "--generated", "bad.json", cwd=where, env=env)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    missing = run_tizbek("stats", "--generated", "nowhere.json", cwd=where, env=env)
    assert (missing.returncode, "cannot read" in missing.stderr) == (2, True)
    day = run_tizbek("stats", "--from", "yesterday", cwd=where, env=env)
    assert day.returncode == 2
    assert "--from must be a day" in day.stderr
