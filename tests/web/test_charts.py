"""The dashboard's SVG bar charts: proportional bars, every bar labelled, nothing unescaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from api.web.charts import Row, Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def _chart(rows: list[Row]) -> ET.Element:
    svg = bar_chart(
        "c",
        title="Collected <by> month",
        desc="Kilograms & more",
        rows=rows,
        series=[
            Series("collected", "Collected", "#0b5c4a"),
            Series("processed", "Done", "#1f4e9c"),
        ],
        figure=lambda grams: f"{grams / 1000} kg",
    )
    return ET.fromstring(str(svg))


def test_bars_are_proportional_and_labelled() -> None:
    root = _chart(
        [
            Row("Nov", {"collected": 200_000, "processed": 50_000}, {"month": "2026-11"}, "6 IT"),
            Row("Dec", {"collected": 100_000}, {"month": "2026-12"}),
        ]
    )
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.findtext(f"{SVG}title") == "Collected <by> month"
    assert root.findtext(f"{SVG}desc") == "Kilograms & more"
    bars = root.findall(f".//{SVG}rect")
    widths = [(b.get("data-measure"), b.get("data-grams"), b.get("width")) for b in bars]
    assert widths == [
        ("collected", "200000", "100.0%"),
        ("processed", "50000", "25.0%"),
        ("collected", "100000", "50.0%"),
        ("processed", "0", "0.0%"),
    ]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "bar-label"]
    assert labels == ["Collected: 200.0 kg", "Done: 50.0 kg", "Collected: 100.0 kg", "Done: 0.0 kg"]
    assert bars[0].findtext(f"{SVG}title") == "Nov · 6 IT · Collected: 200.0 kg"
    rows = root.findall(f"{SVG}g")
    assert [g.get("data-month") for g in rows] == ["2026-11", "2026-12"]
    # Bars never overlap: each starts below the one before.
    ys = [float(b.get("y") or 0) for b in bars]
    assert ys == sorted(ys)
    assert len(set(ys)) == len(ys)


def test_an_empty_chart_and_hostile_labels() -> None:
    root = _chart([Row('<script>"x"</script>', {}, {"region": '"><x'})])
    assert root.find(f".//{SVG}script") is None
    group = root.find(f"{SVG}g")
    assert group is not None
    assert group.get("data-region") == '"><x'
    assert [b.get("width") for b in root.iter(f"{SVG}rect")] == ["0.0%", "0.0%"]
