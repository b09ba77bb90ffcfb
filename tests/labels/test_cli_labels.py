"""``tizbek labels``: issue blocks into the log, render labels a decoder reads back."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from ledger.demo import demo_lot
from ledger.labels import ids
from ledger.storage.engine import make_engine
from ledger.storage.reader import LogReader
from tests.tizbek_cli import run_tizbek


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo log on SQLite with its keys, as the labels commands find it."""
    where = tmp_path_factory.mktemp("labels-demo")
    made = run_tizbek("demo", "--no-serve", "--dir", str(where / "d"), cwd=where)
    assert made.returncode == 0, made.stderr
    return {
        "TIZBEK_DATABASE_URL": f"sqlite:///{where / 'd' / 'demo.db'}",
        "TIZBEK_KEY_DIR": str(where / "d" / "keys"),
        "TIZBEK_BASE_URL": "https://scan.tizbek.kz",
    }


def _decode(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_issue_records_a_block_and_prints_its_ids(demo_env: dict[str, str], tmp_path: Path) -> None:
    run = run_tizbek(
        "labels", "issue", "--org", "almaty-collect", "--count", "5", cwd=tmp_path, env=demo_env
    )
    assert run.returncode == 0, run.stderr
    issued = run.stdout.split()
    assert len(issued) == 5
    assert all(ids.is_lot_id(lot) for lot in issued)
    block, _ = ids.split(issued[0])
    assert [ids.split(lot) for lot in issued] == [(block, n) for n in range(5)]
    engine = make_engine(demo_env["TIZBEK_DATABASE_URL"])
    doc = LogReader(engine).doc("labels", block)
    engine.dispose()
    assert doc is not None
    assert (doc["org"], doc["count"]) == ("almaty-collect", 5)


def test_issue_to_an_unknown_org_is_refused(demo_env: dict[str, str], tmp_path: Path) -> None:
    run = run_tizbek(
        "labels", "issue", "--org", "nobody", "--count", "5", cwd=tmp_path, env=demo_env
    )
    assert run.returncode == 1
    assert "rule: registered-org: organisation nobody is not registered" in run.stderr


@pytest.mark.parametrize("gs1", [False, True])
def test_render_png_and_svg(demo_env: dict[str, str], tmp_path: Path, gs1: bool) -> None:
    env = {**demo_env, **({"TIZBEK_GS1_PREFIX": "9520123"} if gs1 else {})}
    lot = demo_lot(0)
    typed = f"{lot[:4]}-{lot[4:8]}-{lot[8]}".lower()
    run = run_tizbek(
        "labels", "render", typed, "--out", str(tmp_path / "l.png"), cwd=tmp_path, env=env
    )
    assert run.returncode == 0, run.stderr
    expected = (
        f"https://scan.tizbek.kz/8004/9520123{lot}" if gs1 else f"https://scan.tizbek.kz/l/{lot}"
    )
    assert _decode(Image.open(tmp_path / "l.png")) == [expected]
    run = run_tizbek(
        "labels",
        "render",
        lot,
        "--out",
        str(tmp_path / "l.svg"),
        "--lang",
        "kk",
        cwd=tmp_path,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "Салмағы" in (tmp_path / "l.svg").read_text(encoding="utf-8")


def test_render_refuses_a_mistyped_or_unissued_id(demo_env: dict[str, str], tmp_path: Path) -> None:
    lot = demo_lot(0)
    typo = lot[:-1] + ("0" if lot[-1] != "0" else "1")
    run = run_tizbek(
        "labels", "render", typo, "--out", str(tmp_path / "l.png"), cwd=tmp_path, env=demo_env
    )
    assert (run.returncode, run.stderr.count("\n")) == (2, 1)
    assert "failed its check character" in run.stderr
    never = ids.make("YYYY", 1)
    run = run_tizbek(
        "labels", "render", never, "--out", str(tmp_path / "l.png"), cwd=tmp_path, env=demo_env
    )
    assert run.returncode == 2
    assert "was never issued" in run.stderr
    run = run_tizbek(
        "labels", "render", lot, "--out", str(tmp_path / "l.gif"), cwd=tmp_path, env=demo_env
    )
    assert run.returncode == 2
    assert not (tmp_path / "l.gif").exists()


def test_sheet_of_fresh_labels_decodes_cell_by_cell(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "sheet.pdf"
    run = run_tizbek(
        "labels",
        "sheet",
        "--org",
        "almaty-collect",
        "--count",
        "30",
        "--out",
        str(out),
        cwd=tmp_path,
        env=demo_env,
    )
    assert run.returncode == 0, run.stderr
    assert "30 labels on 2 page(s)" in run.stdout
    pdf = pdfium.PdfDocument(str(out))
    assert len(pdf) == 2
    found: list[str] = []
    for page in pdf:
        found += _decode(page.render(scale=300 / 72).to_pil())
    assert len(found) == 30
    assert all(url.startswith("https://scan.tizbek.kz/l/") for url in found)
    assert all(ids.is_lot_id(url.rsplit("/", 1)[1]) for url in found)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.pdf"], "name the LOTS"),
        (["A", "--org", "almaty-collect", "--count", "2", "--out", "x.pdf"], "name the LOTS"),
        (["--org", "almaty-collect", "--out", "x.pdf"], "name the LOTS"),
        (["D3M00000X", "--out", "x.png"], "must end in .pdf"),
        (["D3M00000X", "--out", "x.pdf", "--layout", "0x3"], "at least 1"),
        (["D3M00000Y", "--out", "x.pdf"], "failed its check character"),
    ],
)
def test_sheet_refusals(
    demo_env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    run = run_tizbek("labels", "sheet", *args, cwd=tmp_path, env=demo_env)
    assert run.returncode == 2
    assert message in run.stderr
    assert not (tmp_path / "x.pdf").exists()
