"""Versioned SQL migrations (`catalog/migrations/NNNN_name.sql`), applied in order under an advisory lock.

Each file runs in its own transaction together with its row in `schema_migrations`, so a failed
migration leaves nothing behind. The lock serialises tasks that start together (RUN_MIGRATIONS on
every ECS task): the first applies, the others wait and then find nothing to do. An applied file
whose checksum changed is refused: migrations are append-only.

Migrations read deployment-specific names from parameters, set per transaction as
`catalog.<name>` settings (`current_setting('catalog.app_user', true)`), so the files and their
checksums are the same in every environment. The app login's migration is idempotent and is
applied again when the configured login is missing its grants here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = asyncpg.Connection | PoolConnectionProxy[asyncpg.Record]
    """A plain connection or one borrowed from a pool."""

log = logging.getLogger(__name__)

# Any constant works as long as nothing else in the database uses it: "catalog!" as an int64.
ADVISORY_LOCK_ID = int.from_bytes(b"catalog!", "big") & 0x7FFF_FFFF_FFFF_FFFF
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
APP_LOGIN_MIGRATION = "0002_app_login_role.sql"
"""Creates the app's IAM login (parameter app_user) with rds_iam and its grants; safe to run again."""


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found = []
    for item in resources.files("catalog").joinpath("migrations").iterdir():
        match = _NAME.match(item.name)
        if match:
            found.append(Migration(match.group(1), item.name, item.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


class MigrationError(RuntimeError):
    """The database's migration history does not match the shipped files."""


async def _set_parameters(conn: Conn, parameters: dict[str, str]) -> None:
    for name, value in parameters.items():
        await conn.execute("SELECT set_config($1, $2, true)", f"catalog.{name}", value)


async def app_login_ready(conn: Conn, app_user: str) -> bool:
    """Whether `app_user` exists, is a member of rds_iam and was granted this database's tables."""
    ready: bool = await conn.fetchval(
        """
        SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = $1)
                    THEN pg_has_role($1, 'rds_iam', 'MEMBER')
                         AND has_table_privilege($1, 'schema_migrations', 'SELECT')
                    ELSE false END
        """,
        app_user,
    )
    return ready


async def migrate(conn: Conn, lock_timeout_seconds: float = 120.0, *, app_user: str | None = None) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date).

    `app_user` (DATABASE_APP_USER) is the login migration 0002 creates for IAM authentication.
    """
    parameters = {"app_user": app_user or ""}
    async with asyncio.timeout(lock_timeout_seconds):
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_ID)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {r["version"]: r for r in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")}
        done: list[str] = []
        for migration in available_migrations():
            row = applied.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied "
                        f"(database {row['checksum'][:12]}, shipped {migration.checksum[:12]})"
                    )
                continue
            async with conn.transaction():
                await _set_parameters(conn, parameters)
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("applied migration", extra={"migration": migration.name})
            done.append(migration.name)
        if app_user and not await app_login_ready(conn, app_user):
            # Applied earlier without this login (IAM switched on later, a renamed login, or a
            # database migrated without the parameter): the file is idempotent, so run it again.
            login = next(m for m in available_migrations() if m.name == APP_LOGIN_MIGRATION)
            async with conn.transaction():
                await _set_parameters(conn, parameters)
                await conn.execute(login.sql)
            log.info("created the app login", extra={"migration": login.name, "app_user": app_user})
        unknown = sorted(set(applied) - {m.version for m in available_migrations()})
        if unknown:
            log.warning("database has migrations this build does not know", extra={"versions": unknown})
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_ID)


async def pending_migrations(conn: Conn) -> list[str]:
    """Names of shipped migrations not yet applied (all of them when the table does not exist)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied: set[str] = set()
    if exists:
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [m.name for m in available_migrations() if m.version not in applied]
