"""Service settings, read from the environment and validated before anything starts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AppEnv = Literal["dev", "staging", "prod"]
ServiceRole = Literal["all", "api", "ops"]
CacheStrategyName = Literal["cache-aside", "read-through", "write-through"]
CacheBackendName = Literal["redis", "memcached"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
DatabaseAuth = Literal["password", "iam"]
RedisAuth = Literal["none", "password", "token", "iam"]

ALB_IDLE_TIMEOUT_SECONDS = 60
"""The ALB's idle timeout; the app's keep-alive must outlast it or the ALB reuses closed sockets (502s)."""

_PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "password",
        "postgres",
        "secret",
        "placeholder",
        "example",
        "todo",
        "xxx",
        "dev",
        "test",
    }
)
_SECRET_FIELDS = frozenset({"database_password", "redis_auth_token"})
# PostgreSQL role names the migrations create (quoted with %I, but kept plain so logs and IAM ARNs match).
_ROLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RENAMED = {"REDIS_USERNAME": "REDIS_USER"}
# Key prefixes are used verbatim in SCAN MATCH patterns and beside {hash tags}, so keep them plain.
_KEY_PREFIX_RE = re.compile(r"^[A-Za-z0-9:_.-]{1,64}$")


class SettingsError(ValueError):
    """The environment holds a setting the service refuses; the message names each bad variable."""


def _is_placeholder(secret: SecretStr | None) -> bool:
    if secret is None:
        return True
    value = secret.get_secret_value().strip().lower()
    return value in _PLACEHOLDER_SECRETS or value.startswith(("<", "${", "{{"))


class Settings(BaseSettings):
    """Every setting of the service, each read from the environment variable of its upper-cased name."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    app_env: AppEnv = "dev"
    """dev allows empty or placeholder secrets; staging and prod refuse them."""
    host: str = "127.0.0.1"
    """Loopback outside a container, so the unauthenticated /ops routes are not on the LAN; the image sets
    HOST=0.0.0.0 (a task listens on its ENI, and the security group limits who reaches it)."""
    port: int = Field(default=8080, ge=1, le=65535)
    service_role: ServiceRole = "all"
    """Which routers to mount: api (`/api`), ops (`/ops`) or all; health and metrics are always mounted."""
    log_level: LogLevel = "INFO"
    access_log: bool = False
    """Per-request JSON access log lines with the cache outcome (the ALB keeps access logs too)."""
    max_request_body_bytes: int = Field(default=128 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Larger request bodies are refused with 413 before parsing; the largest valid body (a product whose
    5,000-character description is all escaped surrogate pairs) is about 64 KiB."""
    keepalive_timeout_seconds: int = Field(default=75, gt=ALB_IDLE_TIMEOUT_SECONDS, le=3600)
    """HTTP keep-alive; longer than the ALB idle timeout (60 s) so the ALB always closes first."""
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0, le=110)
    """Time in-flight requests get after SIGTERM; ECS's stop timeout (30 s) must be longer."""

    database_host: str = Field(default="127.0.0.1", min_length=1)
    database_port: int = Field(default=5432, ge=1, le=65535)
    database_name: str = Field(default="catalog", min_length=1, max_length=63)
    database_user: str = Field(default="postgres", min_length=1, max_length=63)
    """The schema owner: the migrations run as it; with DATABASE_AUTH=password the app logs in as it too."""
    database_password: SecretStr = SecretStr("")
    """DATABASE_USER's password; with DATABASE_AUTH=iam only the service that runs the migrations has it."""
    database_auth: DatabaseAuth = "password"
    """`iam`: the app logs in as DATABASE_APP_USER with 15-minute RDS IAM tokens (AWS_REGION, TLS)."""
    database_app_user: str | None = None
    """The app's login with DATABASE_AUTH=iam; the migrations create it with the rds_iam role."""
    database_ssl: bool = False
    """TLS to PostgreSQL (sslmode=require); RDS in prod requires it, and IAM tokens are accepted over TLS only."""
    database_ssl_root_cert: str | None = None
    """CA bundle (e.g. the RDS global bundle); when set, the server certificate and host name are verified."""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    database_statement_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    redis_host: str = Field(default="127.0.0.1", min_length=1)
    redis_port: int = Field(default=6379, ge=1, le=65535)
    redis_db: int = Field(default=0, ge=0, le=15)
    """Database index; standalone Redis only (cluster mode has only db 0)."""
    redis_tls: bool = False
    redis_tls_ca_file: str | None = None
    """CA bundle for the Redis server certificate; unset uses the system store (fine for ElastiCache)."""
    redis_auth: RedisAuth | None = None
    """How the app AUTHs: `none`; `password` (static REDIS_AUTH_TOKEN, local and fallback); `token` (the
    rotated AUTH token read from REDIS_AUTH_SECRET_ARN); `iam` (ElastiCache IAM tokens). Unset: `password`
    when REDIS_AUTH_TOKEN is set, else `none`."""
    redis_user: str | None = None
    """The ElastiCache user (ID = name) with `iam`; an RBAC user with `password`; unset for the default user."""
    redis_auth_token: SecretStr | None = None
    """The static AUTH password with REDIS_AUTH=password."""
    redis_auth_secret_arn: str | None = None
    """Secrets Manager secret whose SecretString is the current AUTH token, with REDIS_AUTH=token."""
    redis_cache_name: str | None = None
    """The replication group ID IAM tokens are signed for, with REDIS_AUTH=iam."""
    aws_region: str | None = None
    """Region the IAM tokens are signed for and Secrets Manager is asked in (the platform sets it)."""
    redis_cluster_mode: bool = False
    redis_pool_size: int = Field(default=50, ge=1, le=1000)
    redis_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    """Per-command socket timeout; a slow cache costs at most this before the request goes to the database."""
    redis_connect_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    redis_breaker_threshold: int = Field(default=5, ge=1, le=1000)
    """Consecutive Redis failures that open the circuit breaker."""
    redis_breaker_reset_seconds: float = Field(default=5.0, gt=0, le=600)
    """How long the breaker stays open before a background probe tries Redis again."""

    cache_backend: CacheBackendName = "redis"
    """Which remote cache: `redis` (Redis OSS, Valkey, ElastiCache for Redis/Valkey) or `memcached`."""
    memcached_host: str = Field(default="127.0.0.1", min_length=1)
    """A node, or with MEMCACHED_AUTODISCOVERY the ElastiCache configuration endpoint (`….cfg.…`)."""
    memcached_port: int = Field(default=11211, ge=1, le=65535)
    memcached_tls: bool = False
    """In-transit encryption (ElastiCache for Memcached 1.6.12+); the certificate is verified."""
    memcached_tls_ca_file: str | None = None
    """An extra CA bundle for the Memcached server certificate (the system store is always used too)."""
    memcached_autodiscovery: bool = False
    """MEMCACHED_HOST is an ElastiCache configuration endpoint: use every node `config get cluster` lists."""
    memcached_autodiscovery_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How often the node list is asked for again (nodes added, removed or replaced)."""

    cache_strategy: CacheStrategyName = "cache-aside"
    cache_ttl_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    cache_ttl_jitter: float = Field(default=0.1, ge=0, lt=1)
    """Each TTL is drawn uniformly from ttl * (1 ± jitter) so keys filled together expire apart."""
    cache_negative_ttl_seconds: int = Field(default=30, ge=1, le=24 * 3600)
    cache_key_prefix: str = "catalog:v1:"
    cache_lease_ttl_seconds: float = Field(default=3.0, gt=0, le=60)
    """How long a fill lease lives; bounds how long other tasks wait on a reader that died."""
    cache_lease_wait_seconds: float = Field(default=1.0, ge=0, le=60)
    """How long a task waits for another task's fill before reading the database itself."""
    cache_outbox_drain_seconds: float = Field(default=1.0, ge=0.05, le=600)
    """How often every task delivers invalidations left in the outbox (a writer that could not reach the
    cache, or died first); with the cache reachable again, bounds how long another task serves an old entry."""

    run_migrations: bool = False
    """Apply pending migrations at startup, under a PostgreSQL advisory lock."""
    bench_routes: bool = False
    """Mount `/bench/*` (bare Redis GET, bare primary-key SELECT) for the benchmark suite."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("cache_key_prefix")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        if not _KEY_PREFIX_RE.fullmatch(value):
            raise ValueError("must be 1-64 characters of letters, digits and : _ . -")
        return value

    @field_validator(
        "database_ssl_root_cert",
        "redis_tls_ca_file",
        "redis_user",
        "memcached_tls_ca_file",
        "database_app_user",
        "redis_auth",
        "redis_auth_secret_arn",
        "redis_cache_name",
        "aws_region",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_auth_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value == "" else value

    @property
    def database_login_user(self) -> str:
        """The role the app's pool logs in as: DATABASE_APP_USER with IAM, else DATABASE_USER."""
        if self.database_auth == "iam":
            assert self.database_app_user is not None  # checked by the validator
            return self.database_app_user
        return self.database_user

    @property
    def redis_auth_mode(self) -> RedisAuth:
        """REDIS_AUTH, or what the static settings imply when it is unset."""
        if self.redis_auth is not None:
            return self.redis_auth
        return "password" if self.redis_auth_token is not None else "none"

    def _identity_problems(self) -> list[str]:
        problems: list[str] = []
        if self.database_auth == "iam":
            if self.database_app_user is None:
                problems.append("DATABASE_AUTH='iam' requires DATABASE_APP_USER (the app's IAM login)")
            elif self.database_app_user == self.database_user:
                problems.append(
                    f"DATABASE_APP_USER={self.database_app_user!r} must differ from DATABASE_USER (the master "
                    "user keeps its password for the migrations)"
                )
            if self.app_env != "dev" and not self.database_ssl:
                problems.append(
                    f"DATABASE_AUTH='iam' requires DATABASE_SSL=true with APP_ENV={self.app_env!r} (RDS accepts "
                    "IAM tokens over TLS only)"
                )
        if self.database_app_user is not None and not _ROLE_NAME_RE.fullmatch(self.database_app_user):
            problems.append(
                f"DATABASE_APP_USER={self.database_app_user!r} is invalid (allowed: 1-63 lowercase letters, digits, _)"
            )
        mode = self.redis_auth_mode
        needs = {
            "none": (),
            "password": ("redis_auth_token",),
            "token": ("redis_auth_secret_arn", "aws_region"),
            "iam": ("redis_user", "redis_cache_name", "aws_region"),
        }[mode]
        for field in needs:
            if getattr(self, field) is None:
                problems.append(f"REDIS_AUTH={mode!r} requires {field.upper()}")
        allowed = {"none": (), "password": ("redis_auth_token", "redis_user"), "token": (), "iam": ("redis_user",)}
        for field in ("redis_auth_token", "redis_user", "redis_auth_secret_arn", "redis_cache_name"):
            if getattr(self, field) is not None and field not in needs and field not in allowed[mode]:
                problems.append(f"{field.upper()} is refused with REDIS_AUTH={mode!r} (it would be ignored)")
        if mode in ("token", "iam") and self.app_env != "dev" and not self.redis_tls:
            problems.append(f"REDIS_AUTH={mode!r} requires REDIS_TLS=true (ElastiCache needs in-transit TLS for it)")
        if self.redis_auth_secret_arn is not None and not self.redis_auth_secret_arn.startswith("arn:"):
            problems.append(f"REDIS_AUTH_SECRET_ARN={self.redis_auth_secret_arn!r} is not an ARN")
        if self.database_auth == "iam" and self.aws_region is None:
            problems.append("DATABASE_AUTH='iam' requires AWS_REGION (tokens are signed for a region)")
        if self.cache_backend == "memcached" and mode in ("token", "iam"):
            problems.append(
                f"REDIS_AUTH={mode!r} is refused with CACHE_BACKEND='memcached' (ElastiCache for Memcached has no AUTH)"
            )
        return problems

    @model_validator(mode="after")
    def _refuse_unsafe_combinations(self) -> Settings:
        problems: list[str] = self._identity_problems()
        if self.app_env != "dev":
            # With IAM the app's own login needs no password: only the migrations log in with one.
            if (self.database_auth == "password" or self.run_migrations) and _is_placeholder(self.database_password):
                problems.append(
                    f"DATABASE_PASSWORD is empty or a placeholder; APP_ENV={self.app_env!r} requires a real "
                    "secret (allowed: any non-placeholder value; placeholders only with APP_ENV='dev')"
                )
            if self.redis_auth_token is not None and _is_placeholder(self.redis_auth_token):
                problems.append(
                    f"REDIS_AUTH_TOKEN is a placeholder; APP_ENV={self.app_env!r} needs a real token or none"
                )
            if self.redis_auth_token is not None and not self.redis_tls:
                problems.append("REDIS_AUTH_TOKEN requires REDIS_TLS=true (ElastiCache AUTH needs in-transit TLS)")
        if (
            self.app_env != "dev"
            and self.redis_auth_token is not None
            and not 16 <= len(self.redis_auth_token.get_secret_value()) <= 128
        ):
            problems.append("REDIS_AUTH_TOKEN must be 16-128 characters long (ElastiCache's limits)")
        if self.app_env == "prod" and not self.database_ssl:
            problems.append("DATABASE_SSL='false' is refused with APP_ENV='prod' (allowed: 'true'; RDS requires TLS)")
        if self.cache_backend == "memcached":
            if self.cache_strategy == "write-through":
                problems.append(
                    "CACHE_STRATEGY='write-through' is refused with CACHE_BACKEND='memcached' (allowed: "
                    "'cache-aside', 'read-through'; memcached cannot compare versions atomically)"
                )
            if self.redis_auth_token is not None:
                problems.append(
                    "REDIS_AUTH_TOKEN is refused with CACHE_BACKEND='memcached' (ElastiCache for Memcached "
                    "has no AUTH; the security group is the only control)"
                )
        if self.redis_cluster_mode and self.redis_db != 0:
            problems.append(f"REDIS_DB={self.redis_db!r} is refused with REDIS_CLUSTER_MODE=true (allowed: 0)")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _describe(error: Mapping[str, Any]) -> str:
    loc = error.get("loc") or ()
    message = str(error.get("msg", "invalid"))
    if not loc:
        return message.removeprefix("Value error, ")
    field = str(loc[0])
    name = field.upper()
    raw = error.get("input")
    shown = "'***'" if field in _SECRET_FIELDS else repr(raw)
    if error.get("type") == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"{name}={shown} is not allowed (allowed values: {expected})"
    return f"{name}={shown} is invalid: {message.removeprefix('Value error, ')}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment); `SettingsError` names each bad one."""
    try:
        renamed = [f"{old} (now {new})" for old, new in _RENAMED.items() if old in (environ or os.environ)]
        if renamed:
            raise SettingsError(f"invalid settings: renamed variables are set: {', '.join(renamed)}")
        if environ is None:
            return Settings()
        fields = Settings.model_fields
        values = {key.lower(): value for key, value in environ.items() if key.lower() in fields}
        return Settings.model_validate(values)
    except ValidationError as exc:
        details = "; ".join(_describe(error) for error in exc.errors(include_url=False))
        raise SettingsError(f"invalid settings: {details}") from None
