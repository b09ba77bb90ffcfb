"""Each kind of finding appears when the events make it, and not when the data is clean."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.custody.engine import Rulebook
from ledger.demo import demo_lot, lot_fields
from ledger.events import utc_now
from ledger.insight.limits import KINDS, Limits
from ledger.keys import SigningKey
from ledger.storage.engine import make_engine
from ledger.storage.findings import Finding, findings
from ledger.storage.sqllog import SqlLog
from ledger.storage.tokens import create_token
from tests.storage.logs import bound, issued, label, signed
from tests.tizbek_cli import demo_token, run_tizbek

ROLES = {
    "col": ["collector"],
    "car": ["transporter"],
    "rec": ["recycler"],
    "insp": ["inspector"],
    "far": ["recycler"],  # a second recycler, in another region
}


class Story:
    """Organisations on a stored log, and the custody steps the tests need."""

    def __init__(self, sql: SqlLog, authority: SigningKey) -> None:
        self.sql, self.keys = sql, {"kz-auth": authority}
        self.heads: dict[str, str] = {}
        for n, (org, roles) in enumerate(ROLES.items()):
            self.act(
                "kz-auth",
                "org.registered",
                org=org,
                name=f"{org} LLP",
                bin=f"{210440000000 + n:012d}",
                roles=roles,
                country="KZ",
                region="Karaganda Region" if org == "far" else "Almaty",
            )
            self.keys[org] = SigningKey.generate()
            sql.append(bound(authority, self.keys[org], org))
        sql.append(issued(authority, "col"))
        year = int(utc_now()[:4])
        for org in ("rec", "far"):
            self.act(
                "kz-auth",
                "license.granted",
                org=org,
                license=f"L-{org}",
                valid_from=f"{year - 1}-01-01",
                valid_to=f"{year + 1}-12-31",
                waste_codes=["20 01 35*"],
                categories=[6],
                operations=["R4"],
            )
        self.start = utc_now()

    def act(self, actor: str, etype: str, **fields: Any) -> int:
        entry, _ = self.sql.append(signed(self.keys[actor], actor, etype, **fields))
        for name in ("lot", "transfer"):
            if isinstance(fields.get(name), str):
                self.heads[fields[name]] = entry.hash.hex()
        for item in fields.get("lots", []):
            self.heads[item["lot"]] = entry.hash.hex()
        return entry.seq

    def register(self, n: int, weight: int = 100_000, **more: Any) -> str:
        lot = label("col", n)
        self.act("col", "lot.registered", **lot_fields(lot, weight_g=weight), **more)
        return lot

    def dispatch(
        self, transfer: str, lot: str, weight: int = 100_000, to: str = "rec", **more: Any
    ) -> int:
        return self.act(
            "col",
            "transfer.dispatched",
            transfer=transfer,
            lots=[{"lot": lot, "after": self.heads[lot], "weight_g": weight}],
            to=to,
            transporter="car",
            **more,
        )

    def carry_and_receive(
        self, transfer: str, lot: str, measured: int, to: str = "rec", **more: Any
    ) -> int:
        self.act(
            "car", "transfer.taken_over", transfer=transfer, after=self.heads[transfer], **more
        )
        return self.act(
            to,
            "transfer.received",
            transfer=transfer,
            after=self.heads[transfer],
            lots=[
                {"lot": lot, "after": self.heads[lot], "weight_g": measured, "outcome": "accepted"}
            ],
            **more,
        )

    def process(self, lot: str, outputs: list[int], by: str = "rec") -> int:
        return self.act(
            by,
            "lot.processed",
            lot=lot,
            after=self.heads[lot],
            operation="R4",
            outputs=[
                {"waste_code": "19 12 02", "material": "ferrous", "weight_g": g} for g in outputs
            ],
        )

    def found(self, days: float, kind: str) -> list[Finding]:
        at = dt.datetime.fromisoformat(self.start.replace("Z", "+00:00")) + dt.timedelta(days=days)
        return findings(
            self.sql.engine, at=at.strftime("%Y-%m-%dT%H:%M:%SZ"), limits=Limits(), kinds=(kind,)
        )


@pytest.fixture
def story(log: tuple[SqlLog, SigningKey]) -> Story:
    return Story(*log)


def test_a_clean_journey_makes_no_finding(story: Story) -> None:
    lot = story.register(1)
    story.dispatch("T1", lot)
    story.carry_and_receive("T1", lot, 99_500)
    story.process(lot, [60_000, 38_000])  # 1.5 % of the input in no output: within 5 %
    for kind in KINDS:
        assert story.found(365, kind) == []


def test_a_transfer_in_transit_too_long(story: Story) -> None:
    lot = story.register(1)
    sent = story.dispatch("T1", lot)
    assert story.found(6, "transit_too_long") == []
    (finding,) = story.found(8, "transit_too_long")
    assert (finding.subject, finding.seqs) == ("T1", [sent])
    assert finding.figures["transporter"] == "car"
    story.carry_and_receive("T1", lot, 100_000)
    assert story.found(8, "transit_too_long") == []


def test_an_open_discrepancy_past_its_deadline(story: Story) -> None:
    lot = story.register(1)
    story.dispatch("T1", lot)
    received = story.carry_and_receive("T1", lot, 70_000)
    assert story.found(10, "discrepancy_overdue") == []
    (finding,) = story.found(17, "discrepancy_overdue")
    assert finding.subject == lot
    assert received in finding.seqs
    assert (finding.figures["declared_g"], finding.figures["measured_g"]) == (100_000, 70_000)
    story.act("insp", "discrepancy.resolved", subject_lot=lot, resolution="scale fault")
    assert story.found(17, "discrepancy_overdue") == []


def test_a_lot_never_dispatched(story: Story) -> None:
    lot = story.register(1)
    assert story.found(29, "never_dispatched") == []
    (finding,) = story.found(31, "never_dispatched")
    assert (finding.subject, finding.figures["collector"]) == (lot, "col")
    story.dispatch("T1", lot)
    assert story.found(31, "never_dispatched") == []


def test_weight_lost_between_collection_and_receipt(story: Story) -> None:
    for n in range(1, 4):
        lot = story.register(n)
        story.dispatch(f"T{n}", lot)
        # 8 % short: under the discrepancy threshold, over the findings' 5 %.
        story.carry_and_receive(f"T{n}", lot, 92_000)
    found = {f.subject: f for f in story.found(0, "weight_loss")}
    assert set(found) == {"collector:col", "carrier:car"}
    collector = found["collector:col"]
    assert (collector.figures["lots"], collector.figures["lost_percent"]) == (3, 8.0)
    assert len(collector.figures["worst_lots"]) == 3
    assert len(collector.seqs) == 6  # each lot's registration and receipt
    assert story.found(0, "discrepancy_overdue") == []


def test_a_recycler_acting_without_a_valid_licence(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules refuse it; a log whose rules were bypassed shows it as a finding."""
    story.act("kz-auth", "license.suspended", org="rec", license="L-rec", reason="audit")
    lot = story.register(1)
    assert story.found(0, "licence_invalid") == []
    # As if the licence rule had a bug: it lets the dispatch, receipt and treatment through.
    monkeypatch.setattr(Rulebook, "_destination_licence", lambda *a, **k: None)
    sent = story.dispatch("T1", lot)
    got = story.carry_and_receive("T1", lot, 100_000)
    treated = story.process(lot, [99_000])
    found = story.found(0, "licence_invalid")
    assert [(f.seqs, f.figures["action"]) for f in found] == [
        ([sent], "sent"),
        ([got], "received"),
        ([treated], "processed"),
    ]
    assert {f.subject for f in found} == {lot}
    assert found[2].figures["operation"] == "R4"
    assert "no licence valid that day for 20 01 35*, category 6" in found[0].detail


def test_a_facility_whose_outputs_do_not_add_up(story: Story) -> None:
    lots = [story.register(n) for n in (1, 2)]
    for n, lot in enumerate(lots):
        story.dispatch(f"T{n}", lot)
        story.carry_and_receive(f"T{n}", lot, 100_000)
    first = story.process(lots[0], [99_000])
    assert story.found(0, "mass_balance") == []
    # 30 kg of the second lot reach no output: 31 kg of 200 kg treated, over 5 %.
    short = story.process(lots[1], [70_000])
    (finding,) = story.found(0, "mass_balance")
    figures = finding.figures
    assert finding.subject == f"rec:{figures['month']}"
    # The lots behind the gap, the largest first, with their treatment entries.
    assert (finding.seqs, figures["lots"]) == ([first, short], [lots[1], lots[0]])
    assert (figures["treated_g"], figures["unaccounted_g"]) == (200_000, 31_000)
    assert (figures["received_g"], figures["processed_g"], figures["recovered_g"]) == (
        200_000,
        200_000,
        169_000,
    )
    assert (figures["opening_g"], figures["closing_g"]) == (0, 0)
    assert "31000 g of the 200000 g it treated or split (15.5 %)" in finding.detail
    # A looser limit accepts it.
    assert (
        findings(
            story.sql.engine,
            at=utc_now(),
            limits=Limits(mass_balance_percent=20),
            kinds=("mass_balance",),
        )
        == []
    )


def test_a_label_signed_for_at_two_places_at_once(story: Story) -> None:
    def ago(minutes: int) -> str:
        moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    slow, fast = story.register(1, at=ago(210)), story.register(2, at=ago(210))
    # Almaty to Karaganda in three hours: a drive; in five minutes: not.
    story.dispatch("T-slow", slow, to="far", at=ago(200))
    story.carry_and_receive("T-slow", slow, 100_000, to="far", at=ago(20))
    story.dispatch("T-fast", fast, to="far", at=ago(10))
    received = story.carry_and_receive("T-fast", fast, 100_000, to="far", at=ago(5))
    (finding,) = story.found(0, "two_places")
    assert finding.subject == "T-fast"
    assert received in finding.seqs
    assert len(finding.seqs) == 2
    assert (finding.figures["from_region"], finding.figures["to_region"]) == (
        "Almaty",
        "Karaganda Region",
    )
    assert finding.figures["minutes"] == 5.0
    # Both in one region: nothing to find however fast.
    near = story.register(3)
    story.dispatch("T-near", near)
    story.carry_and_receive("T-near", near, 100_000)
    assert [f.subject for f in story.found(0, "two_places")] == ["T-fast"]


def test_limits_come_from_the_environment() -> None:
    limits = Limits.from_env({"TIZBEK_FINDING_TRANSIT_DAYS": "3"})
    assert (limits.transit_days, limits.undispatched_days) == (3, 30)
    with pytest.raises(ValueError, match="TIZBEK_FINDING_WEIGHT_LOSS_PERCENT"):
        Limits.from_env({"TIZBEK_FINDING_WEIGHT_LOSS_PERCENT": "five"})


def test_findings_over_the_api_and_the_command_line(tmp_path: Path) -> None:
    """Inspectors see findings at /v1/findings; `tizbek findings` lists them."""
    made = run_tizbek("demo", "--no-serve", "--lots", "2", "--dir", "d", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    token = demo_token(made.stdout)
    env = {
        "TIZBEK_DATABASE_URL": f"sqlite:///{tmp_path / 'd' / 'demo.db'}",
        "TIZBEK_KEY_DIR": str(tmp_path / "d" / "keys"),
    }
    run = run_tizbek("findings", cwd=tmp_path, env=env)
    assert (run.returncode, run.stdout, run.stderr.strip()) == (0, "", "0 finding(s)")
    later = run_tizbek("findings", "--at", "2999-01-01T00:00:00Z", "--json", cwd=tmp_path, env=env)
    assert later.returncode == 0, later.stderr
    # The first journey's lots were carried, weighed and processed: nothing to find, even
    # later. The second journey's lot arrived 11.8 % short: its discrepancy, open for 15 days
    # from today, is overdue by then.
    found = [json.loads(line) for line in later.stdout.splitlines()]
    assert [(f["kind"], f["subject"]) for f in found] == [("discrepancy_overdue", demo_lot(999))]
    assert (found[0]["figures"]["declared_g"], found[0]["figures"]["measured_g"]) == (
        96_000,
        84_700,
    )
    bad = run_tizbek("findings", "--at", "tomorrow", cwd=tmp_path, env=env)
    assert bad.returncode == 2
    assert "--at must be RFC 3339" in bad.stderr
    with TestClient(create_app(env["TIZBEK_DATABASE_URL"], tmp_path / "d" / "keys")) as client:
        headers = {"authorization": f"Bearer {token}"}
        assert client.get("/v1/findings", headers=headers).json() == []
        assert client.get("/v1/findings").status_code == 401
        assert (
            client.get("/v1/findings", params={"kind": "nonsense"}, headers=headers).status_code
            == 400
        )
        # The same findings exported, as CSV and as JSON Lines, with the same filters.
        far: dict[str, Any] = {
            "at": "2999-01-01T00:00:00Z",
            "kind": ["discrepancy_overdue", "weight_loss"],
        }
        listed = client.get("/v1/findings", params=far, headers=headers).json()
        assert [f["kind"] for f in listed] == ["discrepancy_overdue"]
        lines = client.get(
            "/v1/export/findings", params={**far, "format": "jsonl"}, headers=headers
        )
        assert lines.headers["content-type"] == "application/jsonl"
        assert [json.loads(line) for line in lines.text.splitlines()] == listed
        table = client.get("/v1/export/findings", params=far, headers=headers)
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(table.text)))
        assert rows[0] == ["kind", "subject", "detail", "seqs", "figures"]
        assert rows[1][:3] == [listed[0]["kind"], listed[0]["subject"], listed[0]["detail"]]
        assert rows[1][3] == " ".join(str(s) for s in listed[0]["seqs"])
        assert json.loads(rows[1][4]) == listed[0]["figures"]
        member = create_token(
            make_engine(env["TIZBEK_DATABASE_URL"]), org="almaty-collect", role="member", label="m"
        )[1]
        assert (
            client.get(
                "/v1/export/findings", headers={"authorization": f"Bearer {member}"}
            ).status_code
            == 403
        )


def test_the_api_offers_every_kind() -> None:
    from typing import get_args

    from api.insight import Kind

    assert get_args(Kind) == KINDS
