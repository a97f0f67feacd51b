"""Build the redis-py asyncio client ElastiCache needs: standalone or cluster, TLS, AUTH, a bounded pool."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.credentials import CredentialProvider
from redis.exceptions import ConnectionError

from catalog.cache.backends.redis_pool import LeanConnectionPool
from catalog.credentials import Credentials, credentials_from_settings
from catalog.redis_auth import RenewingCredentialProvider, connection_class, use_connection_class
from catalog.settings import Settings

POOL_HEADROOM = 4
"""Connections beyond REDIS_POOL_SIZE for work outside the cache layer's in-flight bound (probe, replay)."""

RedisClient = Redis | RedisCluster
"""Either client; the cache layer uses only commands both have."""


def _common_kwargs(settings: Settings, provider: CredentialProvider | None) -> dict[str, Any]:
    return {
        # Asked on every (re)connect; a renewing provider also needs the connection class below.
        "credential_provider": provider,
        "socket_timeout": settings.redis_timeout_seconds,
        "socket_connect_timeout": settings.redis_connect_timeout_seconds,
        "socket_keepalive": True,
        "client_name": "catalog-service",
        # One immediate retry, on connection errors only: it re-dials a pooled socket the server
        # closed (a failover, an idle timeout), which then succeeds. A timeout is not retried: a hung
        # server would only make the caller wait the timeout twice (redis-py's default also retries
        # timeouts, with backoff). Anything longer is the circuit breaker's job.
        "retry": Retry(NoBackoff(), retries=1, supported_errors=(ConnectionError,)),
        "health_check_interval": 30,
    }


def _tls_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "ssl_ca_certs": settings.redis_tls_ca_file,
        "ssl_cert_reqs": "required",
        "ssl_check_hostname": True,
    }


def build_redis_client(settings: Settings, credentials: Credentials | None = None) -> RedisClient:
    """A client that connects lazily, so the service starts (and fails open) while Redis is down."""
    provider = (credentials or credentials_from_settings(settings)).redis_credentials()
    renewing = isinstance(provider, RenewingCredentialProvider)
    common = _common_kwargs(settings, provider)
    if settings.redis_cluster_mode:
        tls = {"ssl": True, **_tls_kwargs(settings)} if settings.redis_tls else {}
        # RedisCluster's per-node pool raises MaxConnectionsError when exhausted; the cache layer
        # bounds in-flight commands at the same size (InFlightLimit) so callers wait instead.
        cluster = RedisCluster(
            host=settings.redis_host,
            port=settings.redis_port,
            max_connections=settings.redis_pool_size,
            require_full_coverage=True,
            **common,
            **tls,
        )
        if renewing:
            use_connection_class(cluster, connection_class(settings.redis_tls))
        return cluster
    plain: type[Connection] = SSLConnection if settings.redis_tls else Connection
    # The plain pool raises MaxConnectionsError when exhausted, so the cache layer bounds in-flight
    # commands at REDIS_POOL_SIZE (the guarded call's InFlightLimit) and callers wait there; the
    # headroom serves the recovery probe and its replay, which run outside that bound.
    # BlockingConnectionPool would do the waiting itself, but costs ~50 us per command (40% of a
    # GET; issue 18). The lean pool is redis-py's without its per-command bookkeeping (redis_pool.py).
    pool = LeanConnectionPool(
        host=settings.redis_host,
        port=settings.redis_port,
        db=settings.redis_db,
        max_connections=settings.redis_pool_size + POOL_HEADROOM,
        connection_class=connection_class(settings.redis_tls) if renewing else plain,
        **common,
        **(_tls_kwargs(settings) if settings.redis_tls else {}),
    )
    return Redis.from_pool(pool)
