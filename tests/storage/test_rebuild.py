"""Rebuilding the projections by replay gives exactly the live projections."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from ledger.demo import build_demo_log
from ledger.storage import migrate
from ledger.storage.backup import export_header, import_lines
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.tizbek_cli import run_tizbek


def _projections(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            name: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]
            for name, table, order in [
                ("keys", "keys", "key_id"),
                ("heads", "subject_heads", "kind, subject"),
                ("docs", "subject_docs", "kind, subject"),
                ("orgs", "organisations", "id"),
                ("licences", "licences", "org, number"),
                ("lots", "lots", "lot"),
                ("transfers", "transfers", "transfer"),
                ("flows", "flows", "seq, n"),
                (
                    "totals",
                    "flow_totals",
                    "kind, day, org, counterpart, category, region, material, operation, producer",
                ),
            ]
        }


def test_rebuild_equals_live_projections(tmp_path: Path, database_url: str) -> None:
    demo = build_demo_log()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    import_lines(
        engine,
        [export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])]
        + [e.data.decode() for e in demo.log.entries],
    )
    log = SqlLog(engine, demo.log.signer)
    demo_key = demo.keys["almaty-collect"]
    from ledger.demo import demo_lot, lot_fields
    from ledger.events import make_event, sign_event

    log.append(
        sign_event(
            demo_key,
            make_event(
                "lot.registered",
                log=log.signer.name,
                actor="almaty-collect",
                key=demo_key,
                **lot_fields(demo_lot(1)),
            ),
        )
    )
    live = _projections(engine)
    assert len(live["keys"]) == 4
    assert len(live["heads"]) == 5  # three lots and two transfers
    assert (len(live["docs"]), len(live["orgs"]), len(live["licences"])) == (9, 3, 1)
    assert [row[3] for row in live["lots"]] == ["processed", "held", "held"]
    kinds = [row[4] for row in live["flows"]]
    assert kinds[:3] == ["collected", "sent", "received"]
    assert kinds[-1] == "collected"  # the live append's row, after the imported ones
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM subject_heads"))
        conn.execute(text("UPDATE keys SET label = 'tampered'"))
        conn.execute(text("UPDATE lots SET holder = 'someone-else'"))
        conn.execute(text("DELETE FROM subject_docs WHERE kind = 'org'"))
        conn.execute(text("DELETE FROM flows WHERE kind = 'recovered'"))
        conn.execute(text("UPDATE flow_totals SET grams = grams + 1"))
    run = run_tizbek("rebuild", cwd=tmp_path, env={"TIZBEK_DATABASE_URL": database_url})
    assert run.returncode == 0, run.stderr
    assert "from 19 entries" in run.stdout
    assert _projections(engine) == live
    engine.dispose()
