"""ElastiCache policies: TLS, encryption at rest, AUTH/RBAC, replicas with failover and Multi-AZ, snapshots."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pulumi_random as random
import pytest

from tests.policies.support import Analyze, flagged, unknown_notes
from tests.support import ComponentRunner


def _group(name: str, **overrides: Any) -> aws.elasticache.ReplicationGroup:
    args: dict[str, Any] = {
        "description": name,
        "engine": "valkey",
        "engine_version": "8.0",
        "node_type": "cache.t4g.small",
        "num_cache_clusters": 2,
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "transit_encryption_enabled": True,
        "at_rest_encryption_enabled": True,
        "snapshot_retention_limit": 7,
        **overrides,
    }
    return aws.elasticache.ReplicationGroup(name, **args)


def _caches() -> None:
    token = random.RandomPassword("auth-token", length=64, special=False)
    _group("good", auth_token=token.result)
    _group("rbac", user_group_ids=["platform-users"])
    _group("write-only-token", auth_token_wo="x" * 32, auth_token_wo_version=1)
    _group("plaintext", auth_token=token.result, transit_encryption_enabled=False)
    _group("unencrypted-disk", auth_token=token.result, at_rest_encryption_enabled=False)
    _group("open", transit_encryption_enabled=True)
    _group("single-node", auth_token=token.result, num_cache_clusters=1, automatic_failover_enabled=False)
    _group("one-az", auth_token=token.result, multi_az_enabled=False)
    _group("no-snapshots", auth_token=token.result, snapshot_retention_limit=0)
    aws.elasticache.Cluster("standalone-redis", engine="redis", node_type="cache.t4g.micro", num_cache_nodes=1)
    aws.elasticache.Cluster(
        "memcached", engine="memcached", node_type="cache.t4g.micro", num_cache_nodes=2, transit_encryption_enabled=True
    )
    aws.elasticache.Cluster("member", replication_group_id="good")


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_caches_are_encrypted_authenticated_and_highly_available(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    # The AUTH token comes from a random password: unknown at preview, yet its presence is known.
    report = analyze(run_component(_caches, preview=preview))
    assert flagged(report, "elasticache-encryption-in-transit") == {"plaintext", "standalone-redis"}
    assert flagged(report, "elasticache-encryption-at-rest") == {"unencrypted-disk", "standalone-redis"}
    assert flagged(report, "elasticache-auth") == {"open", "standalone-redis"}
    assert flagged(report, "elasticache-multi-az-failover") == {"single-node", "one-az", "standalone-redis"}
    assert flagged(report, "elasticache-snapshot-retention") == {"no-snapshots", "standalone-redis"}
    assert [n for n in unknown_notes(report) if n.startswith("elasticache")] == []
