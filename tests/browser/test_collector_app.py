"""The collector's flow in the web app, end to end against `tizbek demo` serving a fresh log:
sign in, make a key in the browser and have it bound, scan a real label through Chromium's fake
camera, register the lot and dispatch it to a licensed recycler, every event signed in the
browser; then the log holds the entries, they verify, and the browser's key signed them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rfc8785
from playwright.sync_api import Browser, FilePayload, Page, Playwright

from ledger.bundle import verify_bundle
from ledger.demo import demo_lot
from ledger.keys import PublicKey
from tests.browser.conftest import launch
from tests.browser.webapp import (
    demo_users,
    label_video,
    make_and_bind_key,
    shots,
    sign_in,
    token_of,
)
from tests.serving import serving_demo
from tests.tizbek_cli import run_tizbek

Demo = tuple[str, dict[str, tuple[str, str]], Path]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`tizbek demo` serving its log: base URL, the demo users, the demo's folder."""
    where = tmp_path_factory.mktemp("app-demo")
    with serving_demo(where, lots=2) as (base, printed):
        yield base, demo_users(printed), where / "demo"


def _entry(base: str, token: str, seq: int) -> dict[str, object]:
    answer = httpx.get(
        f"{base}/v1/entries/{seq}", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["entry"])


def _logged(page: Page) -> int:
    """The seq the form's event was logged as, once the page says so."""
    result = page.locator("#form-result[data-seq]")
    result.wait_for(timeout=15_000)
    assert f"entry {result.get_attribute('data-seq')}" in result.inner_text()
    return int(result.get_attribute("data-seq") or "")


def test_collector_scans_registers_and_dispatches_signing_in_the_browser(
    playwright: Playwright, demo: Demo, tmp_path: Path
) -> None:
    base, users, folder = demo
    org, link = users["collector"]
    inspector = token_of(users["inspector"][1])
    lot = demo_lot(7)
    video = label_video(
        tmp_path / "label.y4m", url=f"{base}/l/{lot}", lot=lot, collector="Almaty Collect LLP"
    )
    camera: Browser = launch(
        playwright,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    out = shots("collector")
    try:
        context = camera.new_context(
            locale="en-GB", viewport={"width": 400, "height": 860}, permissions=["camera"]
        )
        page = context.new_page()
        sign_in(page, link)
        page.screenshot(path=str(out / "home.png"), full_page=True)
        key_id, public = make_and_bind_key(page, base)
        page.screenshot(path=str(out / "key.png"), full_page=True)

        page.goto(f"{base}/app/collector/register")
        page.click("#scan-start")
        page.wait_for_function(
            f"document.getElementById('lot').value === {json.dumps(lot)}", timeout=20_000
        )
        assert page.locator("#lot").get_attribute("data-scanned") == "true"
        page.select_option("#category", "6")
        page.select_option("#waste_code", "20 01 35*")
        page.fill("#items", "12")
        page.fill("#weight_kg", "48.25")
        page.fill("#site", "Almaty, Medeu district")
        photo: FilePayload = {"name": "lot.jpg", "mimeType": "image/jpeg", "buffer": b"a photo"}
        page.set_input_files("#photo", files=[photo])
        page.screenshot(path=str(out / "register.png"), full_page=True)
        page.click("#register-form button[type=submit]")
        registered = _logged(page)

        page.goto(f"{base}/app/collector/dispatch")
        page.check(f"#choose-form input[value='{lot}']")
        page.click("#choose-form button[type=submit]")
        offered = page.locator("#to option").evaluate_all("os => os.map(o => o.value)")
        assert offered == ["karaganda-recycling"]
        page.select_option("#transporter", "steppe-haulage")
        page.fill("#vehicle", "KZ 555 AAA 02")
        page.screenshot(path=str(out / "dispatch.png"), full_page=True)
        page.click("#dispatch-form button[type=submit]")
        dispatched = _logged(page)

        page.goto(f"{base}/app/collector/")
        assert page.locator(f"table[data-state=dispatched] tr[data-lot='{lot}']").count() == 1
        page.screenshot(path=str(out / "lots.png"), full_page=True)
        context.close()
    finally:
        camera.close()

    # The log holds both events, signed by the browser's key, which the authority bound to org.
    signer = PublicKey.from_base64(public)
    assert signer.key_id == key_id
    for seq, etype in ((registered, "lot.registered"), (dispatched, "transfer.dispatched")):
        entry = _entry(base, inspector, seq)
        event = entry["event"]
        assert isinstance(event, dict)
        assert (event["type"], event["actor"], event["key"]) == (etype, org, key_id)
        sig = base64.b64decode(str(entry["sig"]))
        signer.verify(sig, rfc8785.dumps(event))
    registration = _entry(base, inspector, registered)["event"]
    assert isinstance(registration, dict)
    assert registration["weight_g"] == 48_250
    assert registration["photo_sha256"] == hashlib.sha256(b"a photo").hexdigest()
    doc = httpx.get(
        f"{base}/v1/lots/{lot}", headers={"authorization": f"Bearer {inspector}"}, timeout=10
    ).json()
    assert (doc["state"], doc["photo_sha256"]) == ("dispatched", registration["photo_sha256"])
    bundle = httpx.get(
        f"{base}/v1/lots/{lot}/bundle", headers={"authorization": f"Bearer {inspector}"}, timeout=10
    ).json()
    assert verify_bundle(bundle).entries >= 2
    audit = run_tizbek("verify", "--db", f"sqlite:///{folder / 'demo.db'}", cwd=folder)
    assert audit.returncode == 0, audit.stdout + audit.stderr
