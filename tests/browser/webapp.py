"""What the web app's browser tests share: the demo's users, signing in, the browser's key,
a label as the camera's video, and where screenshots go."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page

from ledger.labels.render import Label, label_png

#: Screenshots of the app's pages go here (ignored by git), one folder per test.
SHOTS = Path(os.environ.get("TIZBEK_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))


def shots(name: str) -> Path:
    """The screenshot folder of test ``name``."""
    folder = SHOTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_users(printed: str) -> dict[str, tuple[str, str]]:
    """Each role's (organisation, sign-in link) from what `tizbek demo` printed."""
    found = re.findall(r"^  (\w+) \(([\w.-]+)\): (http\S+/app/signin#token=\S+)$", printed, re.M)
    return {role: (org, link) for role, org, link in found}


def token_of(link: str) -> str:
    """The token inside a sign-in link."""
    return link.split("#token=", 1)[1]


def sign_in(page: Page, link: str) -> None:
    """Follow a demo sign-in link; the page signs in and lands on the app's home."""
    page.goto(link)
    page.wait_for_url(re.compile(r"/app/$"))


def make_and_bind_key(page: Page, base: str) -> tuple[str, str]:
    """Make this browser's key on the key page and have the demo authority bind it; return its
    key id and public key."""
    page.goto(f"{base}/app/key")
    page.locator("#key-status:not([data-state=checking])").wait_for()
    if page.locator("#key-make").is_visible():
        page.click("#key-make")
    page.locator("#key-demo-bind:visible, #key-status[data-state=bound]").first.wait_for()
    if page.locator("#key-status").get_attribute("data-state") != "bound":
        page.click("#key-demo-bind")
    page.locator("#key-status[data-state=bound]").wait_for(timeout=15_000)
    key_id = page.locator("#key-id").inner_text().strip()
    public = page.locator("#key-public").inner_text().strip()
    binding = httpx.get(f"{base}/v1/keys/{key_id}", timeout=10).json()
    assert binding["public_key"] == public
    return key_id, public


def label_video(path: Path, *, url: str, lot: str, collector: str) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of a real label held up to the camera.

    The label is rendered by ``ledger.labels.render`` and placed on a white 640x480 frame,
    converted to YUV 4:2:0 (full range, as ``C420jpeg`` declares).
    """
    png = label_png(Label(url=url, lot=lot, collector=collector), dpi=220)
    label = Image.open(io.BytesIO(png)).convert("L")
    frame = Image.new("L", (640, 480), 255)
    label.thumbnail((600, 440))
    frame.paste(label, ((640 - label.width) // 2, (480 - label.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (320, 240)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            out.write(b"FRAME\n" + planes)
    return path
