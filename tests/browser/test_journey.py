"""One lot's journey through the web app, end to end against `tizbek demo`, every event signed
in a browser: the collector registers the lot and dispatches it; the driver scans its label
with the camera and takes the transfer over; the recycler weighs it a quarter light, which
opens a discrepancy with a deadline (and refuses part of a second lot of the same transfer,
which goes back to the collector), records its treatment into output fractions and downloads
the certificate of recycling, whose QR code leads to the lot's page and whose inclusion proof
gives the root of the signed checkpoint it names.

:func:`run_journey` plays the story and returns what later steps need (the server, the users,
the lot); the module's ``journey`` fixture runs it once, and the inspector's part follows:
the chart, the discrepancy, the lot's timeline and the full audit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from playwright.sync_api import Browser, Page, Playwright

from api.web import translations
from ledger.checkpoint import Checkpoint
from ledger.demo import demo_lot
from ledger.merkle import root_from_inclusion_proof
from tests.browser.conftest import launch
from tests.browser.inspecting import (
    almaty_month,
    check_dashboard,
    run_audit,
    search_and_open_lot,
)
from tests.browser.test_app_languages import untranslated
from tests.browser.webapp import (
    demo_users,
    label_video,
    make_and_bind_key,
    shots,
    sign_in,
    token_of,
)
from tests.serving import serving_demo

COLLECTOR, TRANSPORTER, RECYCLER = "almaty-collect", "steppe-haulage", "karaganda-recycling"
DECLARED_KG, MEASURED_KG = "40", "30"  # a quarter light: more than the 10 % the demo allows
OUTPUTS = (("ferrous", "191202", 12_500), ("plastics", "19 12 04", 10_000))


@dataclass
class Journey:
    """Where the story left things: the server, its users, the lot and its entries."""

    base: str
    users: dict[str, tuple[str, str]]
    folder: Path
    lot: str
    partial: str
    transfer: str
    seqs: dict[str, int]
    certificate: bytes


def logged(page: Page) -> int:
    """The seq the page's form was logged as, once the page says so."""
    result = page.locator("#form-result[data-seq]")
    result.wait_for(timeout=15_000)
    return int(result.get_attribute("data-seq") or "")


def check_languages(page: Page, url: str, name: str) -> None:
    """The page at ``url`` in Kazakh and Russian, with no English message left; screenshots."""
    for lang in ("kk", "ru"):
        joiner = "&" if "?" in url else "?"
        page.goto(f"{url}{joiner}lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        shown = untranslated(page, lang)
        assert not shown, f"{url} in {lang} shows untranslated {shown}"
        page.screenshot(path=str(shots(f"journey/{lang}") / f"{name}.png"), full_page=True)


def _collect(
    browser: Browser, base: str, link: str, lots: tuple[str, str], transfer: str
) -> dict[str, int]:
    out = shots("journey")
    context = browser.new_context(locale="en-GB", viewport={"width": 400, "height": 860})
    page = context.new_page()
    sign_in(page, link)
    make_and_bind_key(page, base)
    registered = []
    for lot in lots:
        page.goto(f"{base}/app/collector/register?lot={lot}")
        page.fill("#items", "9")
        page.fill("#weight_kg", DECLARED_KG)
        page.fill("#site", "Almaty, Auezov district")
        page.click("#register-form button[type=submit]")
        registered.append(logged(page))
    page.goto(f"{base}/app/collector/dispatch?lot={lots[0]}&lot={lots[1]}")
    page.select_option("#transporter", TRANSPORTER)
    page.fill("#transfer", transfer)
    page.click("#dispatch-form button[type=submit]")
    dispatched = logged(page)
    page.screenshot(path=str(out / "1-collector-dispatch.png"), full_page=True)
    context.close()
    return {"registered": registered[0], "dispatched": dispatched}


def _take_over(camera: Browser, base: str, link: str, lot: str, transfer: str) -> int:
    out = shots("journey")
    context = camera.new_context(
        locale="en-GB", viewport={"width": 400, "height": 860}, permissions=["camera"]
    )
    page = context.new_page()
    sign_in(page, link)
    make_and_bind_key(page, base)
    page.goto(f"{base}/app/transporter/take")
    assert page.locator(f"#waiting li[data-transfer='{transfer}']").count() == 1
    check_languages(page, f"{base}/app/transporter/take?transfer={transfer}", "transporter-take")
    page.goto(f"{base}/app/transporter/take?lang=en")
    page.click("#find-scan")  # the camera reads the label, and the page opens its transfer
    page.wait_for_url(re.compile(rf"take\?lot={lot}$"), timeout=20_000)
    form = page.locator("#take-form")
    assert form.get_attribute("data-transfer") == transfer
    assert page.locator(f"#take-form tr[data-lot='{lot}']").count() == 1
    page.fill("#vehicle", "KZ 808 TRK 09")
    page.screenshot(path=str(out / "2-transporter-take.png"), full_page=True)
    page.click("#take-form button[type=submit]")
    taken = logged(page)

    page.goto(f"{base}/app/transporter/")
    card = page.locator(f"#carried li[data-lot='{lot}']")
    assert card.count() == 1
    assert card.locator(f"dd[data-from='{COLLECTOR}']").inner_text() == "Almaty Collect LLP"
    assert card.locator(f"dd[data-to='{RECYCLER}']").inner_text() == "Karaganda Recycling JSC"
    assert "40.0\u00a0kg" in card.inner_text()
    page.screenshot(path=str(out / "3-transporter-vehicle.png"), full_page=True)
    check_languages(page, f"{base}/app/transporter/", "transporter-vehicle")
    context.close()
    return taken


def _download(page: Page, selector: str) -> bytes:
    with page.expect_download() as download:
        page.click(selector)
    path = download.value.path()
    return Path(path).read_bytes()


def _recycle(
    browser: Browser, base: str, link: str, lots: tuple[str, str], transfer: str
) -> dict[str, object]:
    lot, partial = lots
    out = shots("journey")
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1024, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    sign_in(page, link)
    make_and_bind_key(page, base)
    page.goto(f"{base}/app/recycler/")
    assert page.locator(f"#incoming li[data-transfer='{transfer}']").count() == 1
    page.fill("#find-lot", lot.lower())  # typed, in lower case: the server normalises it
    page.click("#find-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/app/recycler/receive\?transfer={transfer}$"))
    check_languages(page, page.url, "recycler-receive")
    page.goto(f"{base}/app/recycler/receive?transfer={transfer}&lang=en")
    row = page.locator(f"[data-receipt-lot='{lot}']")
    row.locator("[data-field=weight]").fill(MEASURED_KG)
    note = row.locator("[data-role=difference]")
    assert note.get_attribute("data-discrepancy") == "true"
    assert "-25 %" in note.inner_text()
    # The refusal fields show only for the outcomes that need them.
    assert row.locator("[data-field=reason]").is_hidden()
    row.locator("input[value=refused]").check()
    assert row.locator("[data-field=reason]").is_visible()
    assert row.locator("[data-field=refused]").is_hidden()
    row.locator("input[value=accepted]").check()
    other = page.locator(f"[data-receipt-lot='{partial}']")
    other.locator("[data-field=weight]").fill(DECLARED_KG)
    assert other.locator("[data-role=difference]").get_attribute("data-discrepancy") == "false"
    other.locator("input[value=partially_refused]").check()
    other.locator("[data-field=refused]").fill("2,5")
    assert other.locator("[data-field=return_lot]").input_value() == f"{partial}-R"
    other.locator("[data-field=reason]").fill("a broken monitor among the laptops")
    page.screenshot(path=str(out / "4-recycler-receive.png"), full_page=True)
    page.click("#receive-form button[type=submit]")
    received = logged(page)

    page.goto(f"{base}/app/recycler/discrepancies")
    item = page.locator(f"#discrepancies li[data-lot='{lot}']")
    deadline = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=15)).isoformat()
    assert item.get_attribute("data-status") == "open"
    assert item.get_attribute("data-deadline") == deadline
    assert translations.day(deadline, "en") in item.inner_text()
    assert "15 days left" in item.inner_text()
    page.screenshot(path=str(out / "5-recycler-discrepancies.png"), full_page=True)
    check_languages(page, f"{base}/app/recycler/discrepancies", "recycler-discrepancies")
    page.goto(f"{base}/app/recycler/discrepancies?lang=ru")
    assert translations.day(deadline, "ru") in page.locator(f"li[data-lot='{lot}']").inner_text()

    page.goto(f"{base}/app/recycler/lots?lang=en")
    page.click(f"#held li[data-lot='{lot}'] a")
    page.wait_for_url(re.compile(rf"/app/recycler/process\?lot={lot}$"))
    check_languages(page, page.url, "recycler-process")
    page.goto(f"{base}/app/recycler/process?lot={lot}&lang=en")
    assert page.locator("#operation option").evaluate_all("os => os.map(o => o.value)") == [
        "R4",
        "R12",
        "R13",
        "D10",
    ]
    page.click("#output-add")
    page.click("#output-add")
    assert page.locator("[data-output]").count() == 3
    page.locator("[data-output]").nth(2).locator("[data-remove]").click()
    rows = page.locator("[data-output]")
    assert rows.count() == 2
    for n, (material, code, grams) in enumerate(OUTPUTS):
        rows.nth(n).locator("[data-field=material]").select_option(material)
        rows.nth(n).locator("[data-field=waste_code]").fill(code)
        rows.nth(n).locator("[data-field=weight]").fill(str(grams / 1000))
    assert "22.5" in page.locator("#outputs-total").inner_text()
    page.screenshot(path=str(out / "6-recycler-process.png"), full_page=True)
    page.click("#process-form button[type=submit]")
    processed = logged(page)

    page.goto(f"{base}/app/recycler/lots")
    page.screenshot(path=str(out / "7-recycler-lots.png"), full_page=True)
    check_languages(page, f"{base}/app/recycler/lots", "recycler-lots")
    page.goto(f"{base}/app/recycler/lots?lang=en")
    pdf = _download(page, f"#treated li[data-lot='{lot}'] a[download]")
    (out / "certificate.pdf").write_bytes(pdf)
    context.close()
    return {"received": received, "processed": processed, "certificate": pdf}


def run_journey(playwright: Playwright, browser: Browser, base: str, printed: str) -> Journey:
    """Play the story against the demo served at ``base``; return where it left things."""
    users = demo_users(printed)
    lot, partial, transfer = demo_lot(60), demo_lot(61), "TR-JOURNEY-1"
    seqs = _collect(browser, base, users["collector"][1], (lot, partial), transfer)
    video = label_video(
        shots("journey") / "label.y4m", url=f"{base}/l/{lot}", lot=lot, collector="Almaty"
    )
    camera = launch(
        playwright,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    try:
        seqs["taken_over"] = _take_over(camera, base, users["transporter"][1], lot, transfer)
    finally:
        camera.close()
    done = _recycle(browser, base, users["recycler"][1], (lot, partial), transfer)
    seqs["received"], seqs["processed"] = int(str(done["received"])), int(str(done["processed"]))
    certificate = done["certificate"]
    assert isinstance(certificate, bytes)
    return Journey(base, users, Path(), lot, partial, transfer, seqs, certificate)


@pytest.fixture(scope="module")
def journey(
    playwright: Playwright, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journey]:
    """The story, played once against a demo that keeps serving while this module's tests run."""
    where = tmp_path_factory.mktemp("journey")
    with serving_demo(where, lots=1) as (base, printed):
        played = run_journey(playwright, browser, base, printed)
        played.folder = where / "demo"
        yield played


def _entry(journey: Journey, seq: int) -> dict[str, object]:
    token = token_of(journey.users["inspector"][1])
    answer = httpx.get(
        f"{journey.base}/v1/entries/{seq}", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_each_step_is_signed_by_its_organisation_in_order(journey: Journey) -> None:
    expected = {
        "registered": ("lot.registered", COLLECTOR),
        "dispatched": ("transfer.dispatched", COLLECTOR),
        "taken_over": ("transfer.taken_over", TRANSPORTER),
        "received": ("transfer.received", RECYCLER),
        "processed": ("lot.processed", RECYCLER),
    }
    order = [journey.seqs[step] for step in expected]
    assert order == sorted(order)
    for step, (etype, actor) in expected.items():
        event = _entry(journey, journey.seqs[step])["entry"]
        assert isinstance(event, dict)
        assert (event["event"]["type"], event["event"]["actor"]) == (etype, actor)
    taken = _entry(journey, journey.seqs["taken_over"])["entry"]
    assert isinstance(taken, dict)
    assert taken["event"]["vehicle"] == "KZ 808 TRK 09"
    treated = _entry(journey, journey.seqs["processed"])["entry"]
    assert isinstance(treated, dict)
    assert treated["event"]["operation"] == "R4"
    assert treated["event"]["outputs"] == [
        {"material": "ferrous", "waste_code": "19 12 02", "weight_g": 12_500},
        {"material": "plastics", "waste_code": "19 12 04", "weight_g": 10_000},
    ]
    token = token_of(journey.users["inspector"][1])

    def lot(ident: str) -> dict[str, object]:
        return dict(
            httpx.get(
                f"{journey.base}/v1/lots/{ident}", headers={"authorization": f"Bearer {token}"}
            ).json()
        )

    doc = lot(journey.lot)
    assert (doc["state"], doc["weight_g"], doc["discrepancy"]) == (
        "processed",
        30_000,
        {
            "transfer": journey.transfer,
            "declared_g": 40_000,
            "measured_g": 30_000,
            "declared_items": 9,
            "counted_items": None,
            "opened_seq": journey.seqs["received"],
            "deadline": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=15)).isoformat(),
            "status": "open",
        },
    )
    kept, back = lot(journey.partial), lot(f"{journey.partial}-R")
    assert (kept["state"], kept["holder"], kept["weight_g"]) == ("held", RECYCLER, 37_500)
    assert (back["state"], back["holder"], back["weight_g"]) == ("held", COLLECTOR, 2_500)
    receipt = _entry(journey, journey.seqs["received"])["entry"]
    assert isinstance(receipt, dict)
    assert receipt["event"]["lots"][1] == {
        "lot": journey.partial,
        "after": receipt["event"]["lots"][1]["after"],
        "weight_g": 40_000,
        "outcome": "partially_refused",
        "refused_weight_g": 2_500,
        "return_lot": f"{journey.partial}-R",
        "reason": "a broken monitor among the laptops",
    }


def test_the_certificate_leads_to_the_entry_and_proves_its_inclusion(journey: Journey) -> None:
    pdf = journey.certificate
    assert pdf.startswith(b"%PDF-")
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil().convert("L")
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [f"{journey.base}/l/{journey.lot}"]
    text = page.get_textpage().get_text_range()
    flat = " ".join(text.split())
    seq = journey.seqs["processed"]
    for shown in (journey.lot, "Almaty Collect LLP", "Karaganda Recycling JSC", "30.0 kg"):
        assert shown in flat
    assert "Ferrous metals 19 12 02 12.5 kg" in flat
    assert "Plastics 19 12 04 10.0 kg" in flat
    assert f"Treatment entry (seq) {seq}" in flat
    found = re.search(rf"/v1/proof/inclusion\?seq={seq}&size=(\d+)", flat)
    assert found is not None
    size = int(found.group(1))
    hexes = re.findall(r"[0-9a-f]{64}", "".join(text.split()))
    entry = _entry(journey, seq)
    assert entry["leaf_hash"] in hexes
    proof = httpx.get(f"{journey.base}/v1/proof/inclusion?seq={seq}&size={size}").json()
    root = root_from_inclusion_proof(
        index=seq,
        size=size,
        leaf=bytes.fromhex(str(entry["leaf_hash"])),
        proof=[bytes.fromhex(h) for h in proof["hashes"]],
    )
    assert root.hex() in hexes  # the root hash the certificate names for its checkpoint
    (note,) = httpx.get(f"{journey.base}/v1/checkpoints?start={size}&limit=1").json()
    assert note["size"] == size
    assert Checkpoint.parse(note["note"].split("\n\n")[0] + "\n").root == root


def test_the_inspector_sees_the_lot_its_discrepancy_and_the_chart_and_audits(
    journey: Journey, browser: Browser
) -> None:
    """The journey's end, seen from the inspectorate: the chart holds the journey's grams as
    the statistics give them, the lot's discrepancy is listed, its timeline lists each entry
    the browsers signed, and the full audit of the log finds everything in order."""
    token = token_of(journey.users["inspector"][1])
    headers = {"authorization": f"Bearer {token}"}
    doc = httpx.get(f"{journey.base}/v1/lots/{journey.lot}", headers=headers).json()
    stats = httpx.get(f"{journey.base}/v1/stats", headers=headers).json()
    month = almaty_month(0)
    expected: dict[tuple[str, int, str], int] = {}
    for row in stats["months"]:
        if row["month"] == month:
            for measure in ("collected", "processed"):
                if measure in row:  # regions add up into one bar per category
                    key = (month, row["category"], measure)
                    expected[key] = expected.get(key, 0) + row[measure]["grams"]
    # The journey's lot is in this month's bars: registered at 40 kg, treated at 30 kg.
    assert expected[(month, doc["category"], "processed")] >= 30_000
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, journey.users["inspector"][1])
    shown = check_dashboard(page, journey.base, bars=expected, discrepancies=[journey.lot])
    assert shown[(month, doc["category"], "collected")] >= 2 * 40_000
    page.screenshot(path=str(shots("journey") / "7-inspector-dashboard.png"), full_page=True)
    seqs = search_and_open_lot(page, journey.base, journey.lot.lower(), journey.lot)
    assert seqs == doc["history"]
    for step in ("registered", "dispatched", "taken_over", "received", "processed"):
        assert journey.seqs[step] in seqs
    assert page.locator("#discrepancy[data-status=open]").count() == 1
    assert run_audit(page, journey.base) == "ok"
    page.screenshot(path=str(shots("journey") / "8-inspector-audit.png"), full_page=True)
    context.close()
