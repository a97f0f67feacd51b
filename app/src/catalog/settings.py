"""Service settings, read from the environment and validated before anything starts."""

from __future__ import annotations

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
    database_password: SecretStr = SecretStr("")
    database_ssl: bool = False
    """TLS to PostgreSQL (sslmode=require); RDS in prod requires it."""
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
    redis_username: str | None = None
    """ElastiCache RBAC user; AUTH-token-only clusters leave it unset."""
    redis_auth_token: SecretStr | None = None
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
        "database_ssl_root_cert", "redis_tls_ca_file", "redis_username", "memcached_tls_ca_file", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_auth_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value == "" else value

    @model_validator(mode="after")
    def _refuse_unsafe_combinations(self) -> Settings:
        problems: list[str] = []
        if self.app_env != "dev":
            if _is_placeholder(self.database_password):
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
        if environ is None:
            return Settings()
        fields = Settings.model_fields
        values = {key.lower(): value for key, value in environ.items() if key.lower() in fields}
        return Settings.model_validate(values)
    except ValidationError as exc:
        details = "; ".join(_describe(error) for error in exc.errors(include_url=False))
        raise SettingsError(f"invalid settings: {details}") from None
