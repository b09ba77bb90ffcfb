"""Schemathesis drives every operation from the app's own OpenAPI schema.

With no token, an inspector's and a member's, it finds no 5xx answer and no
answer that contradicts the schema (status codes, content types, bodies).
The example count is bounded to keep the suite quick (25 per operation and
token); ``TIZBEK_SCHEMA_EXAMPLES=300`` runs a few hundred each, as before a
release.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from ledger.demo import build_demo_log
from ledger.storage import migrate
from ledger.storage.backup import export_header, import_lines
from ledger.storage.create import LOG_KEY_FILE
from ledger.storage.engine import make_engine
from ledger.storage.tokens import create_token

_TOKENS: dict[str, str] = {}
EXAMPLES = int(os.environ.get("TIZBEK_SCHEMA_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def app_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work: Path = tmp_path_factory.mktemp("schema")
    story = build_demo_log(lots=3)
    url = f"sqlite:///{work / 'demo.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    import_lines(
        engine,
        [export_header(str(story.log.signer.verifier), [n for _, n in story.log.checkpoints])]
        + [e.data.decode() for e in story.log.entries],
    )
    (work / "keys").mkdir()
    story.log.signer.key.save(work / "keys" / LOG_KEY_FILE)
    _TOKENS["inspector"] = create_token(
        engine, org="kz-authority", role="inspector", label="schema"
    )[1]
    _TOKENS["member"] = create_token(engine, org="almaty-collect", role="member", label="schema")[1]
    engine.dispose()
    app = create_app(url, work / "keys", rate_limit=0)
    with TestClient(app):  # runs the app's startup, so its services exist
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("who", [None, "inspector", "member"])
def test_the_schema_holds(app_schema: Any, who: str | None) -> None:
    headers = {} if who is None else {"authorization": f"Bearer {_TOKENS[who]}"}
    operations = [result.ok() for result in app_schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: Any) -> None:
            # A schema cannot express a valid signature: a schema-valid submission
            # may rightly be refused, so that one check is off for POST /v1/events.
            writes = case.method == "POST"
            case.call_and_validate(
                headers=headers, excluded_checks=[positive_data_acceptance] if writes else None
            )

        check()
