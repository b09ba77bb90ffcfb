"""Regenerate the example submissions of docs/protocol.md §11 from one custody story.

Plays every registry and custody event once, in the test suite's small world
(in memory, real keys and signatures), and puts each event type's first
submission into its section's JSON block. Run after a change to the events:
``.venv/bin/python scripts/protocol_examples.py`` (``--check`` plays the story
without writing, to see that the rules still accept all of it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.protocol_story import story  # noqa: E402

DOC = ROOT / "docs" / "protocol.md"


def rewrite(text: str, examples: dict[str, dict[str, Any]]) -> str:
    """``text`` with each event section's JSON block replaced by its example."""
    parts = re.split(r"(^#### `[a-z_.]+`$)", text, flags=re.MULTILINE)
    for i in range(1, len(parts), 2):
        etype = parts[i][6:-1]
        block = "```json\n" + json.dumps(examples[etype], indent=2, ensure_ascii=False) + "\n```"
        parts[i + 1] = re.sub(
            r"```json\n.*?\n```",
            block.replace("\\", "\\\\"),
            parts[i + 1],
            count=1,
            flags=re.DOTALL,
        )
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    examples = story()
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^#### `([a-z_.]+)`$", text, flags=re.MULTILINE))
    missing = documented - set(examples)
    if missing:
        print(f"the story plays no {sorted(missing)}", file=sys.stderr)
        return 1
    if not args.check:
        DOC.write_text(rewrite(text, examples), encoding="utf-8")
        print(f"rewrote {len(documented)} examples in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
