"""The Valkey/Redis cache component alone: engines, shapes, failover, encryption, AUTH, persistence,
logs, alarms. Memcached has its own component (test_memcached.py); the settings and the program's
wiring are tested in tests/stack/test_cache_stack.py."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.aws_context import AwsContext
from components.cache import (
    AUTH_TOKEN_LENGTH,
    EVICTION_POLICIES,
    Cache,
    CacheArgs,
    CacheSpec,
    member_cluster_ids,
    parameter_group_family,
)
from components.errors import InputError
from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from stack.settings import CACHE
from tests.support import ComponentRunner, config_defaults

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
SUBNETS = ["subnet-0iso1", "subnet-0iso2", "subnet-0iso3"]
RG = "aws:elasticache/replicationGroup:ReplicationGroup"
PARAMS = "aws:elasticache/parameterGroup:ParameterGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
PASSWORD = "random:index/randomPassword:RandomPassword"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CMK = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")

ATTRIBUTES = (
    "security_group_id", "port", "primary_endpoint", "reader_endpoint", "configuration_endpoint",
    "tls_enabled", "auth_secret_arn", "auth_secret_kms_key_arn", "cluster_mode", "engine",
    "engine_version", "parameter_group_name", "parameter_group_family", "automatic_failover",
    "multi_az", "node_ids", "arn",
)  # fmt: skip


SPEC_FIELDS = {f.name for f in dataclasses.fields(CacheSpec)}


def _args(**overrides: Any) -> CacheArgs:
    """Args at Pulumi.yaml's defaults, for a group named platform-test; overrides by field name."""
    spec = {
        **config_defaults(CACHE, CacheSpec),
        "identifier": "platform-test",
        "final_snapshot": False,
        "protect": False,
        "apply_immediately": False,
        **{k: v for k, v in overrides.items() if k in SPEC_FIELDS},
    }
    placement: dict[str, Any] = {
        "context": CONTEXT,
        "vpc_id": "vpc-0123",
        "subnet_ids": SUBNETS,
        "availability_zones": AZS,
    }
    placement |= {k: v for k, v in overrides.items() if k not in SPEC_FIELDS}
    return CacheArgs(**placement, spec=CacheSpec(**spec))


def _cache(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    """Build one Cache and export every documented attribute (the contract other components use)."""
    args = _args(**overrides)

    def program() -> None:
        cache = Cache("cache", args)
        for attribute in ATTRIBUTES:
            pulumi.export(attribute, getattr(cache, attribute))

    return run_component(program, preview=preview)


def _is_secret(resource: CapturedResource, key: str) -> bool:
    """Whether an input went over the wire wrapped as a secret (encrypted in state, masked in output)."""
    field = resource.wire_inputs.fields[key]
    sig = field.struct_value.fields.get(rpc._special_sig_key)
    return sig is not None and sig.string_value == rpc._special_secret_sig


def _parameters(run: StackRun) -> dict[str, str]:
    return {p["name"]: p["value"] for p in run.one(PARAMS).inputs.get("parameters") or []}


# -- parameter group family and eviction policy ----------------------------------------------------
@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [
        ("valkey", "7.2", "valkey7"),
        ("valkey", "8.0", "valkey8"),
        ("valkey", "8.1", "valkey8"),
        ("valkey", "8.2", "valkey8"),
        ("redis", "6.2", "redis6.x"),
        ("redis", "7.0", "redis7"),
        ("redis", "7.1", "redis7"),
    ],
)
def test_parameter_group_family_follows_engine_and_version(
    run_component: ComponentRunner, engine: str, version: str, family: str
) -> None:
    assert parameter_group_family(engine, version) == family
    run = _cache(run_component, engine=engine, engine_version=version)
    assert run.one(PARAMS).inputs["family"] == family
    engine_resource = run.one(RG)
    assert engine_resource.inputs["engine"] == engine
    assert engine_resource.inputs["engineVersion"] == version
    assert engine_resource.inputs["parameterGroupName"] == run.one(PARAMS).outputs["name"]
    assert run.outputs["parameter_group_family"] == family


@pytest.mark.parametrize(
    ("engine", "version", "allowed"),
    [
        ("valkey", "7.1", "7.2, 8.0, 8.1, 8.2"),
        ("valkey", "9.0", "7.2, 8.0, 8.1, 8.2"),
        ("valkey", "8", "7.2, 8.0, 8.1, 8.2"),
        ("redis", "6.0", "6.2, 7.0, 7.1"),
        ("redis", "7.2", "newer releases are Valkey"),
        ("valkey", "8.1.0", "major.minor"),
    ],
)
def test_unsupported_versions_are_rejected_with_the_allowed_ones(engine: str, version: str, allowed: str) -> None:
    with pytest.raises(
        InputError, match=rf"'engine_version' = '{re.escape(version)}' is not valid; allowed: for {engine}:"
    ) as error:
        _args(engine=engine, engine_version=version)
    assert (error.value.setting, error.value.value) == ("engine_version", version)
    assert allowed in str(error.value)


@pytest.mark.parametrize("policy", EVICTION_POLICIES)
def test_eviction_policy_lands_in_the_parameter_group(run_component: ComponentRunner, policy: str) -> None:
    run = _cache(run_component, eviction_policy=policy)
    assert _parameters(run)["maxmemory-policy"] == policy


def test_defaults_evict_any_key_and_reserve_memory(run_component: ComponentRunner) -> None:
    # AWS's own default is volatile-lru: with keys that carry no TTL, writes fail once memory is full.
    assert config_defaults(CACHE, CacheSpec)["eviction_policy"] == "allkeys-lfu"
    assert len(EVICTION_POLICIES) == 8
    params = _parameters(_cache(run_component, reserved_memory_percent=30))
    assert params == {"maxmemory-policy": "allkeys-lfu", "reserved-memory-percent": "30", "cluster-enabled": "no"}


def test_bad_eviction_policy_lists_the_eight(run_component: ComponentRunner) -> None:
    with pytest.raises(
        InputError, match="'eviction_policy' = 'lru' is not valid; allowed: one of allkeys-lfu, allkeys-lru"
    ) as error:
        _args(eviction_policy="lru")
    assert all(policy in str(error.value) for policy in EVICTION_POLICIES)


# -- AOF --------------------------------------------------------------------------------------------
def test_aof_is_rejected_with_the_reason_and_the_alternative() -> None:
    with pytest.raises(InputError, match=r"'append_only' = True is not valid; allowed: false\. ") as error:
        _args(append_only=True)
    message = str(error.value)
    assert "ElastiCache does not support AOF" in message
    assert "Valkey" in message
    assert "Multi-AZ replicas with automatic failover" in message
    assert "RDB snapshots" in message


# -- cluster mode shapes and Multi-AZ / failover ----------------------------------------------------
def test_cluster_mode_disabled_is_one_primary_plus_replicas_across_azs(run_component: ComponentRunner) -> None:
    run = _cache(run_component, replicas=2)
    rg = run.one(RG).inputs
    assert rg["clusterMode"] == "disabled"
    assert rg["numCacheClusters"] == 3
    assert rg["preferredCacheClusterAzs"] == AZS
    assert "numNodeGroups" not in rg
    assert "replicasPerNodeGroup" not in rg
    assert _parameters(run)["cluster-enabled"] == "no"
    out = run.outputs
    assert out["primary_endpoint"].startswith("master.platform-test.")
    assert out["reader_endpoint"].startswith("replica.platform-test.")
    assert out["configuration_endpoint"] is None
    assert out["node_ids"] == ["platform-test-001", "platform-test-002", "platform-test-003"]
    assert out["node_ids"] == run.one(RG).outputs["memberClusters"]


def test_cluster_mode_enabled_is_shards_times_replicas(run_component: ComponentRunner) -> None:
    run = _cache(run_component, cluster_mode=True, shards=3, replicas=1)
    rg = run.one(RG).inputs
    assert rg["clusterMode"] == "enabled"
    assert (rg["numNodeGroups"], rg["replicasPerNodeGroup"]) == (3, 1)
    assert "numCacheClusters" not in rg
    assert "preferredCacheClusterAzs" not in rg
    assert _parameters(run)["cluster-enabled"] == "yes"
    out = run.outputs
    assert out["cluster_mode"] is True
    assert out["configuration_endpoint"].startswith("clustercfg.platform-test.")
    assert out["primary_endpoint"] == out["reader_endpoint"] == out["configuration_endpoint"]
    assert len(out["node_ids"]) == 6
    assert out["node_ids"] == run.one(RG).outputs["memberClusters"]
    assert out["node_ids"][:2] == ["platform-test-0001-001", "platform-test-0001-002"]


def test_redis_6_2_leaves_the_mode_to_the_parameter_group(run_component: ComponentRunner) -> None:
    # The ClusterMode setting needs Valkey 7.2 / Redis OSS 7.0; before that cluster-enabled decides.
    run = _cache(run_component, engine="redis", engine_version="6.2", cluster_mode=True, shards=2)
    assert "clusterMode" not in run.one(RG).inputs
    assert _parameters(run)["cluster-enabled"] == "yes"
    assert run.one(RG).inputs["numNodeGroups"] == 2
    assert _cache(run_component, engine="redis", engine_version="7.0").one(RG).inputs["clusterMode"] == "disabled"


@pytest.mark.parametrize(
    ("overrides", "failover", "multi_az"),
    [
        ({"replicas": 0}, False, False),
        ({"replicas": 1}, True, True),
        ({"replicas": 5}, True, True),
        # AWS requires automatic failover in cluster mode; Multi-AZ still needs a replica.
        ({"cluster_mode": True, "shards": 2, "replicas": 0}, True, False),
        ({"cluster_mode": True, "shards": 2, "replicas": 2}, True, True),
    ],
)
def test_failover_and_multi_az_follow_the_replicas(
    run_component: ComponentRunner, overrides: dict[str, Any], failover: bool, multi_az: bool
) -> None:
    run = _cache(run_component, **overrides)
    rg = run.one(RG).inputs
    assert rg["automaticFailoverEnabled"] is failover
    assert rg["multiAzEnabled"] is multi_az
    assert (run.outputs["automatic_failover"], run.outputs["multi_az"]) == (failover, multi_az)
    lag_alarms = [a for a in run.of_type(ALARM) if a.inputs["metricName"] == "ReplicationLag"]
    assert len(lag_alarms) == (len(run.outputs["node_ids"]) if overrides["replicas"] else 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"replicas": 6}, "'replicas' = 6 is not valid; allowed: a whole number from 0 to 5"),
        ({"replicas": -1}, "'replicas' = -1 is not valid; allowed: a whole number from 0 to 5"),
        ({"shards": 2}, "'shards' = 2 is not valid; allowed: 1 unless cluster_mode is true"),
        ({"cluster_mode": True, "shards": 0}, "'shards' = 0 is not valid; allowed: a whole number from 1 to 500"),
        ({"engine": "dragonfly"}, "'engine' = 'dragonfly' is not valid; allowed: one of valkey, redis"),
        ({"engine": "memcached"}, "'engine' = 'memcached' is not valid; allowed: one of valkey, redis"),
        ({"identifier": "Platform_Test"}, "'identifier' = 'Platform_Test' is not valid"),
        ({"identifier": "a" * 41}, "1-40 lowercase letters"),
        ({"node_type": "t4g.micro"}, "'node_type' = 't4g.micro' is not valid; allowed: an ElastiCache node type"),
        ({"subnet_ids": SUBNETS[:2]}, "one subnet per AZ"),
        (
            {"reserved_memory_percent": 101},
            "'reserved_memory_percent' = 101 is not valid; allowed: a whole number from 0 to 100",
        ),
        ({"log_retention_days": 10}, "'log_retention_days' = 10 is not valid; allowed: one of 1, 3, 5, 7, 14"),
        ({"kms_key_arn": "alias/cache"}, "a KMS key or alias ARN"),
        ({"alarm_topic_arn": "platform-alarms"}, "an SNS topic ARN"),
    ],
)
def test_impossible_combinations_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _args(**overrides)


# -- encryption and AUTH ----------------------------------------------------------------------------
def test_tls_and_encryption_at_rest_always_with_a_cmk_when_given(run_component: ComponentRunner) -> None:
    run = _cache(run_component, kms_key_arn=CMK, iam_auth=False)
    rg = run.one(RG).inputs
    assert rg["transitEncryptionEnabled"] is True
    assert rg["atRestEncryptionEnabled"] is True
    assert rg["kmsKeyId"] == CMK
    assert run.one(SECRET).inputs["kmsKeyId"] == CMK
    assert run.outputs["tls_enabled"] is True
    assert run.outputs["auth_secret_kms_key_arn"] == CMK

    default = _cache(run_component, iam_auth=False)
    assert "kmsKeyId" not in default.one(RG).inputs  # AWS-managed key
    assert "kmsKeyId" not in default.one(SECRET).inputs
    assert default.outputs["auth_secret_kms_key_arn"] is None


def test_auth_token_is_generated_kept_in_secrets_manager_and_only_ever_secret(
    run_component: ComponentRunner,
) -> None:
    run = _cache(run_component, iam_auth=False)  # without IAM auth (tests/components/test_cache_auth.py)
    password = run.one(PASSWORD)
    token = password.outputs["result"]
    assert password.inputs["length"] == AUTH_TOKEN_LENGTH
    assert 16 <= AUTH_TOKEN_LENGTH <= 128
    assert password.inputs["special"] is False  # letters and digits: safe in redis:// URLs and shells
    assert len(token) == AUTH_TOKEN_LENGTH

    rg, secret, version = run.one(RG), run.one(SECRET), run.one(SECRET_VERSION)
    assert _is_secret(rg, "authToken"), "the replication group must receive the token as a secret"
    assert _is_secret(version, "secretString")
    assert version.inputs["secretString"]["value"] == token  # SecretString *is* the token
    assert version.inputs["secretId"] == secret.id
    assert run.outputs["auth_secret_arn"] == secret.outputs["arn"]
    assert run.outputs["auth_secret_arn"].startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:")

    # The token appears nowhere else: not in any other input, not in any output of the component.
    carriers = [
        r.name for r in run.resources if r.custom and token in json.dumps(r.inputs, default=str) and r.type != PASSWORD
    ]
    assert sorted(carriers) == sorted([rg.name, version.name])
    assert token not in json.dumps(run.outputs, default=str)


# -- persistence, windows, logs ---------------------------------------------------------------------
def test_rdb_snapshots_windows_and_final_snapshot(run_component: ComponentRunner) -> None:
    run = _cache(
        run_component,
        snapshot_retention_days=35,
        snapshot_window="01:00-02:00",
        maintenance_window="tue:03:00-tue:04:00",
        final_snapshot=True,
    )
    rg = run.one(RG).inputs
    assert (rg["snapshotRetentionLimit"], rg["snapshotWindow"]) == (35, "01:00-02:00")
    assert rg["maintenanceWindow"] == "tue:03:00-tue:04:00"
    assert rg["finalSnapshotIdentifier"] == "platform-test-final"
    assert rg["autoMinorVersionUpgrade"] is True
    assert "finalSnapshotIdentifier" not in _cache(run_component).one(RG).inputs


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"snapshot_retention_days": 36},
            "'snapshot_retention_days' = 36 is not valid; allowed: a whole number from 0 to 35",
        ),
        ({"snapshot_window": "3-4"}, "'snapshot_window' = '3-4' is not valid; allowed: '3-4' is not hh24:mi-hh24:mi"),
        ({"snapshot_window": "03:00-03:30"}, "lasts 30 minutes; at least 60"),
        (
            {"maintenance_window": "sunday 5am"},
            "'maintenance_window' = 'sunday 5am' is not valid; allowed: 'sunday 5am' is not ddd:hh24:mi-ddd:hh24:mi",
        ),
        (
            {"maintenance_window": "wed:03:30-wed:04:30", "snapshot_window": "03:00-04:00"},
            "a window apart from snapshot_window (03:00-04:00)",
        ),
        # Wraps past midnight into Monday's snapshot window.
        (
            {"maintenance_window": "sun:23:30-mon:00:30", "snapshot_window": "00:00-01:00"},
            "a window apart from snapshot_window (00:00-01:00)",
        ),
    ],
)
def test_bad_windows_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _args(**overrides)


def test_slow_and_engine_logs_go_to_log_groups_with_retention(run_component: ComponentRunner) -> None:
    run = _cache(run_component, log_retention_days=90)
    groups = {g.inputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(groups) == {"/aws/elasticache/platform-test/slow-log", "/aws/elasticache/platform-test/engine-log"}
    assert all(g.inputs["retentionInDays"] == 90 for g in groups.values())
    rg = run.one(RG)
    deliveries = {d["logType"]: d for d in rg.inputs["logDeliveryConfigurations"]}
    assert set(deliveries) == {"slow-log", "engine-log"}
    for log_type, delivery in deliveries.items():
        assert delivery["destinationType"] == "cloudwatch-logs"
        assert delivery["destination"] == f"/aws/elasticache/platform-test/{log_type}"
    assert {g.urn for g in groups.values()} <= set(rg.dependencies)


# -- security group ---------------------------------------------------------------------------------
def test_security_group_starts_without_any_rule(run_component: ComponentRunner) -> None:
    run = _cache(run_component)
    sg = run.one(SG)
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    assert run.of_type(INGRESS) == []
    assert run.of_type(EGRESS) == []
    assert run.one(RG).inputs["securityGroupIds"] == [sg.id]
    assert run.outputs["security_group_id"] == sg.id
    assert run.one("aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"] == SUBNETS


# -- alarms -----------------------------------------------------------------------------------------
def test_alarms_per_node_with_the_optional_topic(run_component: ComponentRunner) -> None:
    run = _cache(run_component, replicas=1, alarm_topic_arn=TOPIC)
    alarms = run.of_type(ALARM)
    by_metric: dict[str, list[str]] = {}
    for alarm in alarms:
        assert alarm.inputs["namespace"] == "AWS/ElastiCache"
        assert alarm.inputs["alarmActions"] == [TOPIC]
        assert alarm.inputs["okActions"] == [TOPIC]
        by_metric.setdefault(alarm.inputs["metricName"], []).append(alarm.inputs["dimensions"]["CacheClusterId"])
    nodes = ["platform-test-001", "platform-test-002"]
    assert by_metric == dict.fromkeys(
        ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions", "ReplicationLag"), nodes
    )
    assert run.one(RG).inputs["notificationTopicArn"] == TOPIC
    quiet = _cache(run_component, replicas=0)
    assert all(a.inputs.get("alarmActions") == [] for a in quiet.of_type(ALARM))


def test_alarm_dimensions_are_known_at_preview(run_component: ComponentRunner) -> None:
    run = _cache(run_component, preview=True, cluster_mode=True, shards=2, replicas=1, iam_auth=False)
    dims = sorted({a.inputs["dimensions"]["CacheClusterId"] for a in run.of_type(ALARM)})
    assert dims == member_cluster_ids("platform-test", cluster_mode=True, shards=2, replicas=1)
    assert "auth_secret_arn" in run.unknown_outputs  # the secret ARN only exists after creation


def test_protect_guards_the_group_and_children_live_in_the_component(run_component: ComponentRunner) -> None:
    run = _cache(run_component, protect=True, iam_auth=False)
    rg = run.one(RG)
    assert rg.options["protect"] is True
    assert rg.options["deleteBeforeReplace"] is True
    assert run.one(SECRET).inputs["recoveryWindowInDays"] == 30
    component = run.one("platform:cache:Cache")
    assert all(r.parent == component.urn and r.name.startswith("cache-") for r in run.resources if r.custom)
