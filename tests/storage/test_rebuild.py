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
            "keys": [tuple(r) for r in conn.execute(text("SELECT * FROM keys ORDER BY key_id"))],
            "heads": [
                tuple(r)
                for r in conn.execute(text("SELECT * FROM subject_heads ORDER BY kind, subject"))
            ],
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
    from ledger.events import make_event, sign_event

    log.append(
        sign_event(
            demo_key,
            make_event(
                "lot.registered",
                log=log.signer.name,
                actor="almaty-collect",
                key=demo_key,
                lot="L-NEW",
            ),
        )
    )
    live = _projections(engine)
    assert len(live["keys"]) == 4
    assert len(live["heads"]) == 3
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM subject_heads"))
        conn.execute(text("UPDATE keys SET label = 'tampered'"))
    run = run_tizbek("rebuild", cwd=tmp_path, env={"TIZBEK_DATABASE_URL": database_url})
    assert run.returncode == 0, run.stderr
    assert "from 9 entries" in run.stdout
    assert _projections(engine) == live
    engine.dispose()
