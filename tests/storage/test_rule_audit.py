"""A server that skips the custody rules is caught by the inspector's own replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.custody import rules
from ledger.demo import AUTHORITY_ID, build_demo_log, demo_lot, lot_fields
from ledger.events import make_event, sign_event
from ledger.keys import SigningKey
from ledger.storage import migrate
from ledger.storage.audit import audit_database
from ledger.storage.backup import export_header, import_lines
from ledger.storage.engine import make_engine
from ledger.storage.sqllog import SqlLog
from tests.tizbek_cli import run_tizbek

L_BAD = demo_lot(1)
L_X = demo_lot(5)


def _signed(key: SigningKey, actor: str, etype: str, **fields: Any) -> Any:
    return sign_event(
        key, make_event(etype, log="demo.tizbek.kz/log", actor=actor, key=key, **fields)
    )


def test_rule_breaking_entries_are_reported_with_seq_and_rule(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = build_demo_log()
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    import_lines(
        engine,
        [export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])]
        + [e.data.decode() for e in demo.log.entries],
    )
    log = SqlLog(engine, demo.log.signer)
    collector, recycler = demo.keys["almaty-collect"], demo.keys["karaganda-recycling"]
    registered, _ = log.append(
        _signed(collector, "almaty-collect", "lot.registered", **lot_fields(L_BAD))
    )
    log.append(
        _signed(
            demo.authority,
            AUTHORITY_ID,
            "license.revoked",
            org="karaganda-recycling",
            license="KZ-REC-0042",
            reason="falsified weighbridge records",
        )
    )

    # A buggy or dishonest server: it checks keys, signatures and links, not custody.
    monkeypatch.setattr(rules.Custody, "apply", lambda self, event, **_: rules.Changes())
    processed, _ = log.append(
        _signed(
            recycler,
            "karaganda-recycling",
            "lot.processed",
            lot=L_BAD,
            after=registered.hash.hex(),
            operation="R4",
            outputs=[{"waste_code": "19 12 02", "material": "ferrous", "weight_g": 1000}],
        )
    )
    second, _ = log.append(
        _signed(
            collector, "almaty-collect", "lot.registered", **lot_fields(demo_lot(2), weight_g=0)
        )
    )
    log.append(_signed(collector, "almaty-collect", "lot.registered", **lot_fields(demo_lot(3))))
    monkeypatch.undo()
    log.close()

    report = audit_database(engine)
    assert [(v.seq, v.rule) for v in report.violations] == [
        (processed.seq, "holder"),
        (second.seq, "format"),
    ]
    run = run_tizbek("verify", "--db", database_url, cwd=tmp_path)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"VIOLATION: seq {processed.seq}: rule: holder: lot {L_BAD} is held")
    assert lines[1].startswith(f"VIOLATION: seq {second.seq}: rule: format: weight_g")
    assert "2 rule violation(s)" in run.stderr
    engine.dispose()


def test_processing_without_a_licence_is_named(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recycler holds the lot, but its licence was revoked before it processed it."""
    demo = build_demo_log(lots=2)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    entries = demo.log.entries
    import_lines(
        engine,
        [export_header(str(demo.log.signer.verifier), [n for _, n in demo.log.checkpoints])]
        + [e.data.decode() for e in entries],
    )
    log = SqlLog(engine, demo.log.signer)
    # Both lots were received; the demo processed both. Register and deliver one more.
    log.append(
        _signed(
            demo.authority,
            AUTHORITY_ID,
            "license.revoked",
            org="karaganda-recycling",
            license="KZ-REC-0042",
            reason="expired insurance",
        )
    )
    monkeypatch.setattr(rules.Custody, "apply", lambda self, event, **_: rules.Changes())
    collector, recycler = demo.keys["almaty-collect"], demo.keys["karaganda-recycling"]
    lot, _ = log.append(_signed(collector, "almaty-collect", "lot.registered", **lot_fields(L_X)))
    sent, _ = log.append(
        _signed(
            collector,
            "almaty-collect",
            "transfer.dispatched",
            transfer="T-X",
            to="karaganda-recycling",
            lots=[{"lot": L_X, "after": lot.hash.hex(), "weight_g": 1}],
        )
    )
    got, _ = log.append(
        _signed(
            recycler,
            "karaganda-recycling",
            "transfer.received",
            transfer="T-X",
            after=sent.hash.hex(),
            lots=[{"lot": L_X, "after": sent.hash.hex(), "weight_g": 1, "outcome": "accepted"}],
        )
    )
    done, _ = log.append(
        _signed(
            recycler,
            "karaganda-recycling",
            "lot.processed",
            lot=L_X,
            after=got.hash.hex(),
            operation="R4",
            outputs=[{"waste_code": "19 12 02", "material": "ferrous", "weight_g": 1}],
        )
    )
    monkeypatch.undo()
    log.close()
    run = run_tizbek("verify", "--db", database_url, cwd=tmp_path)
    assert run.returncode == 1
    assert f"VIOLATION: seq {sent.seq}: rule: licence: karaganda-recycling has no licence" in (
        run.stdout
    )
    assert "KZ-REC-0042 is revoked" in run.stdout
    # What followed from the refused dispatch is reported too, each naming its seq.
    assert f"VIOLATION: seq {got.seq}: rule:" in run.stdout
    assert f"VIOLATION: seq {done.seq}: rule:" in run.stdout
    engine.dispose()
