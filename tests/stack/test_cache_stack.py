"""The cache as the stack configures and wires it: bad cache config stopped before anything exists,
the committed stacks' replication groups, the exports, and the Memcached alternative through config."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.cache import AOF_UNSUPPORTED
from mockcloud.runner import StackRun, run_stack
from stack import exports
from stack.settings import ConfigError
from tests.support import assert_config_rejected, cached_run

RG = "aws:elasticache/replicationGroup:ReplicationGroup"
MEMCACHED = "aws:elasticache/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
PASSWORD = "random:index/randomPassword:RandomPassword"
SG = "aws:ec2/securityGroup:SecurityGroup"


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        ({"cacheEngine": "keydb"}, "cacheEngine", "one of valkey, redis, memcached"),
        ({"cacheEngineVersion": "9.0"}, "cacheEngineVersion", "for valkey: 7.2, 8.0, 8.1, 8.2"),
        ({"cacheEvictionPolicy": "volatile"}, "cacheEvictionPolicy", "one of allkeys-lfu, allkeys-lru"),
        ({"cacheReplicas": 6}, "cacheReplicas", "from 0 to 5"),
        ({"cacheShards": 3}, "cacheShards", "1 unless cacheClusterMode is true"),
        ({"cacheSnapshotRetentionDays": 36}, "cacheSnapshotRetentionDays", "from 0 to 35"),
        ({"cacheNodeType": "r7g.large"}, "cacheNodeType", "an ElastiCache node type"),
        ({"cacheMaintenanceWindow": "sun:03:30-sun:04:30"}, "cacheMaintenanceWindow", "apart from"),
        ({"cacheSnapshotWindow": "03:00-03:15"}, "cacheSnapshotWindow", "at least 60"),
        ({"cacheKmsKeyArn": "alias/cache"}, "cacheKmsKeyArn", "a KMS key or alias ARN"),
        ({"alarmTopicArn": "platform-alarms"}, "alarmTopicArn", "an SNS topic ARN"),
        (
            {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22", "cacheClusterMode": True},
            "cacheClusterMode",
            "false with cacheEngine=memcached",
        ),
        ({"cacheEngine": "memcached"}, "cacheEngineVersion", "for memcached: 1.6.x"),
        (
            {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22", "cacheShards": 2},
            "cacheShards",
            "1 with cacheEngine=memcached",
        ),
        (
            {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22", "cacheAof": True},
            "cacheAof",
            "false with cacheEngine=memcached",
        ),
        (
            {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22", "cacheMemcachedNodes": 41},
            "cacheMemcachedNodes",
            "from 1 to 40",
        ),
    ],
)
def test_bad_cache_config_is_rejected_before_anything_exists(overrides: dict[str, Any], key: str, allowed: str) -> None:
    assert_config_rejected("dev", overrides, key, allowed)


def test_aof_in_config_fails_before_anything_is_registered() -> None:
    error = assert_config_rejected("dev", {"cacheAof": True}, "cacheAof", "false")
    assert AOF_UNSUPPORTED in str(error)


def test_prod_refuses_a_cache_without_failover() -> None:
    with pytest.raises(ConfigError, match=r"cacheReplicas' = 0 .*at least 1 with environment=prod"):
        run_stack("prod", overrides={"cacheReplicas": 0})


def test_prod_refuses_a_single_memcached_node() -> None:
    overrides = {"cacheEngine": "memcached", "cacheEngineVersion": "1.6.22", "cacheMemcachedNodes": 1}
    assert_config_rejected("prod", overrides, "cacheMemcachedNodes", "at least 2 with environment=prod")


def test_stacks_get_failover_and_prod_gets_more(stack_run: StackRun) -> None:
    rg = stack_run.one(RG)
    assert rg.inputs["engine"] == "valkey"
    assert rg.inputs["automaticFailoverEnabled"] is True
    assert rg.inputs["multiAzEnabled"] is True
    assert rg.inputs["transitEncryptionEnabled"] is True
    assert rg.inputs["atRestEncryptionEnabled"] is True
    assert rg.inputs["subnetGroupName"]
    isolated = set(stack_run.outputs[exports.ISOLATED_SUBNET_IDS])
    assert set(stack_run.one("aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"]) == isolated
    if stack_run.stack == "prod":
        assert rg.inputs["numCacheClusters"] == 3
        assert rg.inputs["preferredCacheClusterAzs"] == stack_run.outputs[exports.AVAILABILITY_ZONES]
        assert rg.inputs["snapshotRetentionLimit"] == 7
        assert rg.inputs["finalSnapshotIdentifier"] == "container-platform-prod-final"
        assert rg.options["protect"] is True
        assert rg.inputs["applyImmediately"] is False
    else:
        assert rg.inputs["numCacheClusters"] == 2
        assert "finalSnapshotIdentifier" not in rg.inputs
        assert rg.options["protect"] is False


def test_program_exports_the_connection_and_no_token_exists(stack_run: StackRun) -> None:
    out = stack_run.outputs
    assert out[exports.CACHE_PRIMARY_ENDPOINT].startswith("master.")
    assert out[exports.CACHE_READER_ENDPOINT].startswith("replica.")
    assert (out[exports.CACHE_PORT], out[exports.CACHE_TLS], out[exports.CACHE_CLUSTER_MODE]) == (6379, True, False)
    # Valkey with IAM authentication: no AUTH token, no secret.
    assert out[exports.CACHE_AUTH] == "iam"
    assert out[exports.CACHE_AUTH_SECRET_ARN] is None
    assert stack_run.of_type(PASSWORD) == []
    assert stack_run.of_type(SECRET) == []
    assert out[exports.CACHE_SECURITY_GROUP_ID] == stack_run.one(SG, f"{stack_run.stack}-cache-sg").id
    assert not stack_run.secret_outputs


def test_without_iam_auth_the_token_is_exported_by_reference_never_by_value() -> None:
    run = cached_run("dev", cacheEngine="redis", cacheEngineVersion="6.2")
    out = run.outputs
    token = run.one(PASSWORD).outputs["result"]
    assert out[exports.CACHE_AUTH] == "token"
    assert out[exports.CACHE_AUTH_SECRET_ARN] == run.one(SECRET).outputs["arn"]
    assert token not in json.dumps(out, default=str)
    assert not run.secret_outputs


def test_cluster_mode_and_memcached_through_config() -> None:
    cluster = cached_run("dev", cacheClusterMode=True, cacheShards=2, cacheReplicas=1)
    rg = cluster.one(RG).inputs
    assert (rg["numNodeGroups"], rg["replicasPerNodeGroup"]) == (2, 1)
    assert cluster.outputs[exports.CACHE_CLUSTER_MODE] is True
    assert cluster.outputs[exports.CACHE_PRIMARY_ENDPOINT].startswith("clustercfg.")

    memcached = cached_run("dev", cacheEngine="memcached", cacheEngineVersion="1.6.22", cacheMemcachedNodes=2)
    assert memcached.of_type(RG) == []
    assert memcached.one(MEMCACHED).inputs["azMode"] == "cross-az"
    assert memcached.outputs[exports.CACHE_AUTH_SECRET_ARN] is None
    assert memcached.outputs[exports.CACHE_AUTH] == "none"
    assert memcached.outputs[exports.CACHE_PORT] == 11211
