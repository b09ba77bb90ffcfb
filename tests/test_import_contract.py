"""The pure core imports neither a web framework nor a database driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LEDGER = Path(__file__).parents[1] / "ledger"
#: Modules allowed to reach I/O frameworks: the command line (``ledger/cli/``) and storage.
IMPURE = {"__main__.py"}
FORBIDDEN = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "sqlite3",
    "psycopg",
    "psycopg2",
    "asyncpg",
    "api",
}


def _pure_modules() -> list[Path]:
    return sorted(
        p
        for p in LEDGER.rglob("*.py")
        if p.name not in IMPURE and not {"storage", "cli"} & set(p.relative_to(LEDGER).parts)
    )


@pytest.mark.parametrize("path", _pure_modules(), ids=lambda p: str(p.relative_to(LEDGER)))
def test_pure_module_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_contract_sees_the_core() -> None:
    names = {p.name for p in _pure_modules()}
    assert {"merkle.py", "canonical.py", "chain.py", "bundle.py", "checkpoint.py"} <= names
