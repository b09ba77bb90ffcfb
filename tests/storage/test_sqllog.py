"""The durable log's append path, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.errors import EventFormatError, KeyFormatError, VerificationError
from ledger.events import Submission, sign_event
from ledger.keys import SigningKey
from ledger.merkle import inclusion_proof_from_nodes, verify_inclusion
from ledger.note import NoteSigner
from ledger.storage.audit import audit_database
from ledger.storage.sqllog import SqlLog, node_reader
from tests.storage.logs import ORIGIN, bound, issued, label
from tests.storage.logs import lot as _lot
from tests.storage.logs import registered as _registered
from tests.storage.logs import signed as _signed

L1 = label("almaty-collect", 1)


def _lost(key: SigningKey, org: str, lot: str, after: bytes) -> Submission:
    return _signed(key, org, "lot.lost", lot=lot, after=after.hex(), reason="fell off a truck")


def _bind(log: SqlLog, authority: SigningKey, org: str) -> SigningKey:
    key = SigningKey.generate()
    log.append(_registered(authority, org))
    log.append(bound(authority, key, org))
    log.append(issued(authority, org))
    return key


def test_appends_verify_and_serve_proofs(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _bind(sql, authority, "almaty-collect")
    entry, new = sql.append(_lot(collector, "almaty-collect", 1))
    assert new
    assert entry.seq == 4
    second, _ = sql.append(_lost(collector, "almaty-collect", L1, entry.hash))
    report = audit_database(sql.engine)
    assert (report.entries, report.checkpoints) == (6, 6)
    with sql.engine.connect() as conn:
        proof = inclusion_proof_from_nodes(node_reader(conn), index=4, size=6)
    verify_inclusion(index=4, size=6, leaf=entry.hash, proof=proof, root=report.root)
    assert sql.checkpoint().startswith(f"{ORIGIN}\n6\n")
    assert second.prev == entry.hash


def test_resend_is_idempotent_and_nonce_reuse_refused(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    collector = _bind(sql, authority, "almaty-collect")
    sub = _lot(collector, "almaty-collect", 1)
    first, new = sql.append(sub)
    again, new_again = sql.append(Submission.from_json(sub.to_json()))
    assert (new, new_again) == (True, False)
    assert again == first
    other = sign_event(collector, dict(sub.event, lot=label("almaty-collect", 2)))
    with pytest.raises(EventFormatError, match="nonce"):
        sql.append(other)
    assert audit_database(sql.engine).entries == 5


@pytest.mark.parametrize("case", ["unbound-key", "stale-after", "bad-signature"])
def test_refusals_write_nothing(log: tuple[SqlLog, SigningKey], case: str) -> None:
    sql, authority = log
    collector = _bind(sql, authority, "almaty-collect")
    first, _ = sql.append(_lot(collector, "almaty-collect", 1))
    sql.append(_lost(collector, "almaty-collect", L1, first.hash))
    if case == "unbound-key":
        sub = _lot(SigningKey.generate(), "almaty-collect", 2)
    elif case == "stale-after":
        sub = _lost(collector, "almaty-collect", L1, first.hash)
    else:
        sub = _lot(collector, "almaty-collect", 2)
        sub = Submission(dict(sub.event, lot=label("almaty-collect", 3)), sub.sig)
    with pytest.raises(VerificationError):
        sql.append(sub)
    report = audit_database(sql.engine)
    assert (report.entries, report.checkpoints) == (6, 6)


def test_a_second_log_key_cannot_append(log: tuple[SqlLog, SigningKey]) -> None:
    sql, authority = log
    stranger = SqlLog(sql.engine, NoteSigner(ORIGIN, SigningKey.generate()))
    with pytest.raises(KeyFormatError, match="checkpoint key"):
        stranger.append(_signed(authority, "kz-auth", "key.revoked", key_id="0" * 64, reason="x"))
    with sql.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_entries")).scalar() == 1


def test_seq_at_finds_the_first_entry_logged_at_or_after_a_time(
    log: tuple[SqlLog, SigningKey],
) -> None:
    from ledger.storage.reader import LogReader

    sql, authority = log
    collector = _bind(sql, authority, "almaty-collect")
    for n in range(1, 8):
        sql.append(_lot(collector, "almaty-collect", n))
    reader = LogReader(sql.engine)
    stamps = [e.logged_at for e in reader.entries(start=0, limit=100)]
    assert stamps == sorted(stamps)
    for seq, stamp in enumerate(stamps):
        assert reader.seq_at(stamp) == stamps.index(stamp)
        assert reader.seq_at(stamp) <= seq
    assert reader.seq_at("0000") == 0
    assert reader.seq_at("9999") == len(stamps)
