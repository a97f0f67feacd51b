"""The Memcached component alone: nodes across AZs, no AUTH, TLS from 1.6.12, per-node alarms, and the
alias that keeps a stack created when Memcached was an engine of the Cache component."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pulumi
import pytest

from components.errors import InputError
from components.memcached import MemcachedArgs, MemcachedCluster, MemcachedSpec
from mockcloud.runner import StackRun
from stack.settings import MEMCACHED
from tests.support import ComponentRunner, config_defaults

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
SUBNETS = ["subnet-0iso1", "subnet-0iso2", "subnet-0iso3"]
CLUSTER = "aws:elasticache/cluster:Cluster"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"
SPEC_FIELDS = {f.name for f in dataclasses.fields(MemcachedSpec)}
ATTRIBUTES = ("security_group_id", "port", "configuration_endpoint", "tls_enabled", "engine", "node_ids", "arn")


def _args(**overrides: Any) -> MemcachedArgs:
    spec = {
        **config_defaults(MEMCACHED, MemcachedSpec),
        "engine_version": "1.6.22",
        "identifier": "platform-test",
        "protect": False,
        "apply_immediately": False,
        **{k: v for k, v in overrides.items() if k in SPEC_FIELDS},
    }
    placement: dict[str, Any] = {"vpc_id": "vpc-0123", "subnet_ids": SUBNETS, "availability_zones": AZS}
    placement |= {k: v for k, v in overrides.items() if k not in SPEC_FIELDS}
    return MemcachedArgs(**placement, spec=MemcachedSpec(**spec))


def _memcached(run_component: ComponentRunner, **overrides: Any) -> StackRun:
    args = _args(**overrides)

    def program() -> None:
        cluster = MemcachedCluster("cache", args)
        for attribute in ATTRIBUTES:
            pulumi.export(attribute, getattr(cluster, attribute))

    return run_component(program)


def test_memcached_has_no_auth_and_tls_only_from_1_6_12(run_component: ComponentRunner) -> None:
    new = _memcached(run_component, nodes=3)
    cluster = new.one(CLUSTER).inputs
    assert cluster["engine"] == "memcached"
    assert cluster["transitEncryptionEnabled"] is True
    assert (cluster["numCacheNodes"], cluster["azMode"]) == (3, "cross-az")
    assert cluster["preferredAvailabilityZones"] == AZS
    assert cluster["port"] == 11211
    assert new.of_type("aws:secretsmanager/secret:Secret") == []
    assert new.of_type("random:index/randomPassword:RandomPassword") == []
    assert new.of_type("aws:elasticache/replicationGroup:ReplicationGroup") == []
    params = new.one("aws:elasticache/parameterGroup:ParameterGroup").inputs
    assert params["family"] == "memcached1.6"
    assert params.get("parameters") in (None, [])
    address = new.one(CLUSTER).outputs["clusterAddress"]
    assert new.outputs["configuration_endpoint"] == address
    assert ".cfg.euw1.cache.amazonaws.com" in address

    old = _memcached(run_component, engine_version="1.6.6", nodes=1)
    assert old.one(CLUSTER).inputs["transitEncryptionEnabled"] is False
    assert old.one(CLUSTER).inputs["azMode"] == "single-az"
    assert old.outputs["tls_enabled"] is False


def test_alarms_per_node_and_events_to_the_topic(run_component: ComponentRunner) -> None:
    run = _memcached(run_component, nodes=2, alarm_topic_arn=TOPIC)
    dims = sorted((a.inputs["metricName"], a.inputs["dimensions"]["CacheNodeId"]) for a in run.of_type(ALARM))
    assert dims == [
        ("CPUUtilization", "0001"),
        ("CPUUtilization", "0002"),
        ("Evictions", "0001"),
        ("Evictions", "0002"),
    ]
    assert all(a.inputs["alarmActions"] == [TOPIC] for a in run.of_type(ALARM))
    assert all(a.inputs["dimensions"]["CacheClusterId"] == "platform-test" for a in run.of_type(ALARM))
    assert run.one(CLUSTER).inputs["notificationTopicArn"] == TOPIC
    assert run.outputs["node_ids"] == ["0001", "0002"]


def test_security_group_starts_without_any_rule_and_protect_guards_the_cluster(run_component: ComponentRunner) -> None:
    run = _memcached(run_component, protect=True)
    sg = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    assert run.one(CLUSTER).inputs["securityGroupIds"] == [sg.id]
    assert run.one(CLUSTER).options["protect"] is True
    assert run.one(CLUSTER).options["deleteBeforeReplace"] is True


def test_the_component_carries_an_alias_to_the_cache_type_it_was(run_component: ComponentRunner) -> None:
    # Before Memcached got its own component it was the Cache component with engine=memcached: the
    # alias keeps those stacks' cluster (and, through the parent, its children) instead of replacing it.
    run = _memcached(run_component)
    component = run.one("platform:cache:MemcachedCluster")
    aliases = component.options["aliases"]
    assert any("platform:cache:Cache" in str(alias) for alias in aliases), aliases
    assert all(r.parent == component.urn and r.name.startswith("cache-") for r in run.resources if r.custom)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"engine_version": "1.6"},
            "'engine_version' = '1.6' is not valid; allowed: for memcached: 1.6.x with the patch level",
        ),
        ({"engine_version": "1.5.16"}, "'engine_version' = '1.5.16' is not valid; allowed: for memcached: 1.6.x"),
        ({"nodes": 0}, "'nodes' = 0 is not valid; allowed: a whole number from 1 to 40"),
        ({"nodes": 41}, "'nodes' = 41 is not valid; allowed: a whole number from 1 to 40"),
        ({"node_type": "t4g.micro"}, "'node_type' = 't4g.micro' is not valid; allowed: an ElastiCache node type"),
        ({"maintenance_window": "sunday"}, "'maintenance_window' = 'sunday' is not valid"),
        ({"identifier": "Platform_Test"}, "'identifier' = 'Platform_Test' is not valid"),
        ({"subnet_ids": SUBNETS[:2]}, "one subnet per AZ"),
    ],
)
def test_impossible_settings_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        _args(**overrides)
