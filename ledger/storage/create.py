"""Creating a new log in a database: keys, genesis entry and first checkpoint."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ledger.errors import TizbekError
from ledger.genesis import make_genesis
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from ledger.note import NoteSigner, VerifierKey
from ledger.storage import migrate
from ledger.storage.backup import export_header, import_lines
from ledger.storage.engine import make_engine
from ledger.storage.tables import ENTRIES

KEY_DIR_ENV = "TIZBEK_KEY_DIR"
DEFAULT_KEY_DIR = "keys"
LOG_KEY_FILE = "log.key"
AUTHORITY_KEY_FILE = "authority.key"


class LogExistsError(TizbekError):
    """The database already holds a log, or its key files already exist."""

    code = "log_exists"


@dataclass(frozen=True)
class NewLog:
    """What ``tizbek init`` made."""

    origin: str
    log_key: VerifierKey
    authority_key_id: str
    key_dir: Path


def key_dir(environ: dict[str, str] | None = None) -> Path:
    """The key directory: ``TIZBEK_KEY_DIR``, else ``./keys``."""
    env = os.environ if environ is None else environ
    return Path(env.get(KEY_DIR_ENV, "").strip() or DEFAULT_KEY_DIR)


def create_log(
    url: str, *, keys: Path, origin: str, authority_id: str, authority_name: str
) -> NewLog:
    """Migrate ``url``, write new log and authority keys, the genesis entry and a checkpoint."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one():
                raise LogExistsError(f"{url} already holds a log; refusing to create another")
        paths = [keys / LOG_KEY_FILE, keys / AUTHORITY_KEY_FILE]
        for path in paths:
            if path.exists():
                raise LogExistsError(f"{path} already exists; refusing to replace a log's key")
        keys.mkdir(mode=0o700, parents=True, exist_ok=True)
        signer = NoteSigner(origin, SigningKey.generate())
        authority = SigningKey.generate()
        genesis = make_genesis(
            authority,
            origin=origin,
            log_key=signer.verifier,
            authority_id=authority_id,
            authority_name=authority_name,
        )
        log = MemoryLog(signer=signer, genesis=genesis)
        signer.key.save(paths[0])
        authority.save(paths[1])
        lines = [
            export_header(str(signer.verifier), [note for _, note in log.checkpoints]),
            *(entry.data.decode("utf-8") for entry in log.entries),
        ]
        import_lines(engine, lines)
    finally:
        engine.dispose()
    return NewLog(origin, signer.verifier, authority.key_id, keys)
