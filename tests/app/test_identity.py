"""IAM tokens and a rotated AUTH token against real servers: a private PostgreSQL whose app role takes the
token as its SCRAM password, and private redis-servers whose ACL users do.

RDS and ElastiCache accept any valid token; a local server accepts the passwords it holds. So each test
gives the server the token the provider signs (fixed credentials, a clock the test moves), and for a
renewal the next token before the app needs it — Redis ACL users hold both for a moment, as the real
services accept both while the old one is unexpired.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import botocore.auth
import botocore.config
import botocore.session
import pytest
import redis
from catalog.aws_auth import IAM_TOKEN_LIFETIME_SECONDS, IAM_TOKEN_RENEW_BEFORE_SECONDS, AwsAuth
from catalog.credentials import StoreCredentials, credentials_from_settings
from catalog.migrate import app_login_ready, migrate

from tests.app.conftest import SettingsFactory
from tests.app.helpers import PG_HOST, admin_sql, create_seeded_database, new_product, running_app
from tests.app.servers import PostgresServer, RedisServer, free_port
from tests.app.test_aws_auth import REGION, static_session

APP_ROLE = "catalog_iam_app"
RENEW_AFTER = IAM_TOKEN_LIFETIME_SECONDS - IAM_TOKEN_RENEW_BEFORE_SECONDS


class Clocks:
    """The monotonic clock of the token caches and the wall clock botocore signs with, moved together."""

    def __init__(self) -> None:
        self.monotonic = 5000.0
        self.wall = dt.datetime(2026, 12, 2, 1, 0, 0)

    def __call__(self) -> float:
        return self.monotonic

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds
        self.wall += dt.timedelta(seconds=seconds)


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> Clocks:
    found = Clocks()
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: found.wall)
    return found


# -------------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="module")
def private_pg() -> Iterator[tuple[PostgresServer, Path]]:
    """A private cluster where APP_ROLE must send its password (SCRAM) over TLS, as RDS takes IAM tokens,
    seeded and migrated without that role; with the CA file of its certificate."""
    server = PostgresServer().init()
    ca = server.enable_tls()
    server.require_password(APP_ROLE, tls_only=True)
    server.start()
    try:
        asyncio.run(create_seeded_database("catalog", products=20, port=server.port))
        yield server, ca
    finally:
        server.close()


async def _backends(port: int) -> list[dt.datetime]:
    conn = await asyncpg.connect(host=PG_HOST, port=port, user="postgres", database="postgres")
    try:
        rows = await conn.fetch("SELECT backend_start FROM pg_stat_activity WHERE usename = $1", APP_ROLE)
    finally:
        await conn.close()
    return [row["backend_start"] for row in rows]


async def test_app_logs_in_with_a_generated_token_and_renews_it_without_failing_requests(
    private_pg: tuple[PostgresServer, Path], make_settings: SettingsFactory, clocks: Clocks
) -> None:
    server, ca = private_pg
    port = server.port
    settings = make_settings(
        DATABASE_PORT=str(port),
        DATABASE_NAME="catalog",
        DATABASE_SSL="true",
        DATABASE_SSL_ROOT_CERT=str(ca),  # verify-full: certificate and host name
        DATABASE_AUTH="iam",
        DATABASE_APP_USER=APP_ROLE,
        AWS_REGION=REGION,
        RUN_MIGRATIONS="true",  # as postgres (trust): creates APP_ROLE with rds_iam (0002 ran without it)
    )
    aws = AwsAuth(REGION, static_session())
    credentials = credentials_from_settings(settings, aws=aws, clock=clocks)
    assert credentials.database_login().user == APP_ROLE
    assert credentials.migration_login().user == "postgres"

    def token_now() -> str:
        return aws.rds_token(settings.database_host, port, APP_ROLE)

    first = token_now()
    async with running_app(settings, credentials=credentials) as app:
        await admin_sql(f"ALTER ROLE {APP_ROLE} PASSWORD '{first}'", port)
        assert (await app.client.get("/readyz")).status_code == 200
        # The app's login reads and writes through its grants (INSERT with identity columns, inventory).
        created = await new_product(app.client)
        assert (await app.client.get(f"/api/products/{created['id']}")).status_code == 200
        assert credentials.database_token is not None
        assert credentials.database_token.generation == 1
        tls = ssl.create_default_context(cafile=str(ca))
        with pytest.raises(asyncpg.InvalidPasswordError):  # the role really needs the token
            await asyncpg.connect(
                host=PG_HOST, port=port, user=APP_ROLE, password="not-the-token", database="catalog", ssl=tls
            )
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
            await asyncpg.connect(host=PG_HOST, port=port, user=APP_ROLE, password=first, database="catalog", ssl=False)

        statuses: list[int] = []
        stop = asyncio.Event()

        async def load() -> None:
            while not stop.is_set():
                statuses.append((await app.client.get("/readyz")).status_code)

        # Warm up: the pool opens every connection the load needs before the token changes.
        workers = [asyncio.create_task(load()) for _ in range(4)]
        while len(statuses) < 50:
            await asyncio.sleep(0.01)

        # RDS would take either token; this role takes one password, so it gets the next token (signed
        # at the renewal instant) while the open connections keep serving.
        clocks.advance(RENEW_AFTER)
        second = token_now()
        assert second != first
        await admin_sql(f"ALTER ROLE {APP_ROLE} PASSWORD '{second}'", port)
        changed_at = dt.datetime.now(dt.UTC)
        before = len(statuses)
        await app.resources.pool.expire_connections()  # every connection is replaced on its next release
        while len(statuses) < before + 200:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*workers)

        assert set(statuses) == {200}, f"failed requests across the renewal: {sorted(set(statuses))}"
        assert credentials.database_token.generation == 2, "one renewal for all new connections"
        backends = await _backends(port)
        assert backends, "the app holds connections"
        assert all(started > changed_at for started in backends), "every connection was opened with the new token"
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(host=PG_HOST, port=port, user=APP_ROLE, password=first, database="catalog", ssl=tls)


async def test_app_login_migration_grants_rows_not_schema_and_is_applied_again_for_a_new_login(
    private_pg: tuple[PostgresServer, Path],
) -> None:
    port = private_pg[0].port
    await admin_sql('CREATE DATABASE "logins"', port)
    owner = await asyncpg.connect(host=PG_HOST, port=port, user="postgres", database="logins")
    try:
        assert await migrate(owner) != []  # no parameter: 0002 applied, no login created
        assert not await app_login_ready(owner, "catalog_rw")
        assert await migrate(owner, app_user="catalog_rw") == []  # nothing pending, yet the login is made
        assert await app_login_ready(owner, "catalog_rw")
        role = await owner.fetchrow(
            "SELECT r.rolcanlogin, r.rolsuper, r.rolcreaterole, g.rolcanlogin AS iam_can_login FROM pg_roles r,"
            " pg_roles g WHERE r.rolname = 'catalog_rw' AND g.rolname = 'rds_iam'"
        )
        assert role is not None
        assert (role["rolcanlogin"], role["rolsuper"], role["rolcreaterole"]) == (True, False, False)
        assert role["iam_can_login"] is False  # the local stand-in for RDS's rds_iam
        # A later migration's table (as 0003 will be) is granted by the default privileges.
        await owner.execute("CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY, note text)")
    finally:
        await owner.close()
    app = await asyncpg.connect(host=PG_HOST, port=port, user="catalog_rw", database="logins")
    try:
        await app.execute("INSERT INTO categories (slug, name) VALUES ('rw', 'Read-write')")
        await app.execute("INSERT INTO later_table (note) VALUES ('granted')")
        assert await app.fetchval("SELECT count(*) FROM schema_migrations") >= 2
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("CREATE TABLE not_mine (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("DELETE FROM schema_migrations")
    finally:
        await app.close()


# ------------------------------------------------------------------------------------------- Redis


def _admin(server: RedisServer) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.port, username="admin", password="admin-password-123")


@pytest.fixture
def acl_redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A private redis-server (a one-node cluster when the test's parameter says so) whose default user
    is off: only ACL users with passwords get in."""
    server = RedisServer(cluster=getattr(request, "param", False)).start()
    plain = redis.Redis(host="127.0.0.1", port=server.port)
    plain.execute_command("ACL", "SETUSER", "admin", "on", ">admin-password-123", "~*", "&*", "+@all")
    plain.execute_command("ACL", "SETUSER", "default", "off")
    plain.close()
    try:
        yield server
    finally:
        server.close()


def _auth_stats(admin: redis.Redis) -> tuple[int, int]:
    """(AUTH commands the server ran, logins it refused: AUTH or HELLO, from the ACL log)."""
    stats: dict[str, Any] = admin.info("commandstats").get("cmdstat_auth", {})
    refused = sum(int(entry["count"]) for entry in admin.acl_log() if entry["reason"] == "auth")
    return int(stats.get("calls", 0)), refused


def _data_connections(admin: redis.Redis) -> int:
    """The app's connections that ran cache commands (not the admin's own, nor the cluster client's
    topology connection, which AUTHs again on its own next command)."""
    return sum(
        1
        for client in admin.client_list(_type="normal")
        if client["cmd"] != "client|list" and not client["cmd"].startswith("cluster|")
    )


async def _read_products(app: Any, ids: range) -> None:
    for product_id in ids:
        response = await app.client.get(f"/api/products/{product_id}")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("acl_redis", [False, True], ids=["standalone", "cluster"], indirect=True)
async def test_iam_token_renewed_and_old_one_removed_without_restart_or_failed_commands(
    acl_redis: RedisServer, make_settings: SettingsFactory, clocks: Clocks
) -> None:
    cache_name, user = "catalog-test-cache", "catalog-test-cache-app"
    settings = make_settings(
        REDIS_PORT=str(acl_redis.port),
        REDIS_CLUSTER_MODE="true" if acl_redis.cluster else "false",
        REDIS_AUTH="iam",
        REDIS_USER=user,
        REDIS_CACHE_NAME=cache_name,
        AWS_REGION=REGION,
    )
    aws = AwsAuth(REGION, static_session())
    credentials = credentials_from_settings(settings, aws=aws, clock=clocks)
    admin = _admin(acl_redis)
    first = aws.elasticache_token(cache_name, user)
    admin.execute_command("ACL", "SETUSER", user, "on", f">{first}", "~*", "&*", "+@all")
    async with running_app(settings, credentials=credentials) as app:
        await _read_products(app, range(1, 11))  # fills the cache
        async with app.expect_queries(0):
            await asyncio.gather(*(_read_products(app, range(1, 11)) for _ in range(5)))  # several connections
        connections = _data_connections(admin)
        assert connections >= 2
        calls_before, failed_before = _auth_stats(admin)

        # Renewal: the server accepts the next token too (as ElastiCache accepts any unexpired one).
        clocks.advance(RENEW_AFTER)
        second = aws.elasticache_token(cache_name, user)
        assert second != first
        admin.execute_command("ACL", "SETUSER", user, f">{second}")
        async with app.expect_queries(0):  # every read is a cache hit: no command failed
            await asyncio.gather(*(_read_products(app, range(1, 11)) for _ in range(5)))
        calls, failed = _auth_stats(admin)
        assert calls - calls_before >= connections, "each connection in use AUTHs again with the renewed token"
        assert failed == failed_before

        # The old token is gone and every connection is dropped (ElastiCache's 12-hour limit, a failover):
        # they reconnect with the renewed token, still without a failed command.
        admin.execute_command("ACL", "SETUSER", user, f"<{first}")
        admin.client_kill_filter(_type="normal", skipme=True)
        # The cluster client reads one at a time here: after every connection died, concurrent commands
        # each re-initialise the topology, and redis-py once wrote on a connection another task's
        # re-initialisation had closed (AttributeError, seen once under full-suite load; no AUTH involved).
        readers = 1 if acl_redis.cluster else 5
        async with app.expect_queries(0):
            await asyncio.gather(*(_read_products(app, range(1, 11)) for _ in range(readers)))
        assert _auth_stats(admin)[1] == failed_before, "no AUTH was refused"
        assert isinstance(credentials, StoreCredentials)
    admin.close()


class FakeSecretsManager:
    """GetSecretValue over HTTP on 127.0.0.1, answered the way Secrets Manager answers (JSON 1.1), for a real
    botocore client; `value` is what the rotation function last stored."""

    def __init__(self, arn: str, value: str) -> None:
        self.arn = arn
        self.value = value
        self.calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.headers["X-Amz-Target"] == "secretsmanager.GetSecretValue"
                assert body == {"SecretId": fake.arn}
                fake.calls += 1
                answer = json.dumps({"ARN": fake.arn, "Name": "auth", "SecretString": fake.value}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSecretsManager:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def client(self, session: botocore.session.Session) -> Any:
        return session.create_client(
            "secretsmanager", region_name=REGION, endpoint_url=f"http://127.0.0.1:{self.server.server_port}"
        )


async def test_rotated_auth_token_is_read_again_when_refused(
    acl_redis: RedisServer, make_settings: SettingsFactory, clocks: Clocks
) -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:catalog-cache-auth-AbCdEf"
    old, new = "first-auth-token-0123456789", "second-auth-token-9876543210"
    admin = _admin(acl_redis)
    admin.execute_command("ACL", "SETUSER", "default", "on", "resetpass", f">{old}", "~*", "&*", "+@all")
    settings = make_settings(
        REDIS_PORT=str(acl_redis.port), REDIS_AUTH="token", REDIS_AUTH_SECRET_ARN=arn, AWS_REGION=REGION
    )
    session = static_session()
    with FakeSecretsManager(arn, old) as secrets:
        aws = AwsAuth(REGION, session, secrets_client=secrets.client(session))
        credentials = credentials_from_settings(settings, aws=aws, clock=clocks)
        async with running_app(settings, credentials=credentials) as app:
            await _read_products(app, range(1, 11))
            async with app.expect_queries(0):
                await asyncio.gather(*(_read_products(app, range(1, 11)) for _ in range(5)))
            assert secrets.calls == 1, "read once for every connection"

            # The rotation function: a new token on the server (the old one removed), then in the secret.
            admin.execute_command("ACL", "SETUSER", "default", "resetpass", f">{new}")
            secrets.value = new
            clocks.advance(1.5)  # past the minimum interval between re-reads
            admin.client_kill_filter(_type="normal", skipme=True)  # every connection must AUTH again
            async with app.expect_queries(0):
                await asyncio.gather(*(_read_products(app, range(1, 11)) for _ in range(5)))
            assert secrets.calls == 2, "one re-read for all the refused connections"
            _, refused = _auth_stats(admin)
            assert refused >= 1, "the old token was refused before the new one was read"
    admin.close()


# ------------------------------------------------------------------------------ AWS unreachable


def _session_without_credentials() -> botocore.session.Session:
    session = botocore.session.Session()
    session.get_credentials = lambda: None  # type: ignore[method-assign]  # the task role is unreachable
    return session


async def test_no_rds_token_is_a_503_not_a_500(make_settings: SettingsFactory) -> None:
    settings = make_settings(DATABASE_AUTH="iam", DATABASE_APP_USER=APP_ROLE, AWS_REGION=REGION)
    credentials = credentials_from_settings(settings, aws=AwsAuth(REGION, _session_without_credentials()))
    async with running_app(settings, credentials=credentials) as app:
        ready = await app.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "down"
        assert (await app.client.get("/api/products/1")).status_code == 503


async def test_an_unreadable_auth_secret_fails_the_cache_open(make_settings: SettingsFactory) -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:catalog-cache-auth-AbCdEf"
    settings = make_settings(REDIS_AUTH="token", REDIS_AUTH_SECRET_ARN=arn, AWS_REGION=REGION)
    session = static_session()
    nobody = session.create_client(  # Secrets Manager unreachable: nothing listens there
        "secretsmanager",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    credentials = credentials_from_settings(settings, aws=AwsAuth(REGION, session, secrets_client=nobody))
    async with running_app(settings, credentials=credentials) as app:
        for product_id in (1, 2, 3):  # served from the database; the cache is skipped, not a 500
            assert (await app.client.get(f"/api/products/{product_id}")).status_code == 200
        ready = await app.client.get("/readyz")
        assert (ready.status_code, ready.json()["cache"]) == (200, "degraded")
