"""Build the emcache client: every node of the cluster (a fixed node, or ElastiCache auto discovery), TLS."""

from __future__ import annotations

import emcache

from catalog.settings import Settings


async def build_memcached_client(settings: Settings) -> emcache.Client:
    """A client for `MEMCACHED_HOST:MEMCACHED_PORT`; with auto discovery that is the configuration endpoint.

    Under auto discovery emcache sends `config get cluster` to the configuration endpoint (at start,
    then every `MEMCACHED_AUTODISCOVERY_INTERVAL_SECONDS`) and spreads keys over every node it lists
    (rendezvous hashing). If the endpoint does not answer at start the client has no nodes yet:
    every command fails, the cache layer fails open, and the next poll fills the node list in.
    """
    return await emcache.create_client(
        [emcache.MemcachedHostAddress(settings.memcached_host, settings.memcached_port)],
        timeout=settings.redis_timeout_seconds,
        connection_timeout=settings.redis_connect_timeout_seconds,
        max_connections=settings.redis_pool_size,
        min_connections=1,
        # A node that stops answering keeps its keys (commands fail and the breaker counts them):
        # moving them to other nodes would let it serve copies that missed invalidations once back.
        purge_unhealthy_nodes=False,
        ssl=settings.memcached_tls,
        ssl_verify=True,
        ssl_extra_ca=settings.memcached_tls_ca_file,
        autodiscovery=settings.memcached_autodiscovery,
        autodiscovery_poll_interval=settings.memcached_autodiscovery_interval_seconds,
        autodiscovery_timeout=max(1.0, settings.redis_connect_timeout_seconds),
    )
