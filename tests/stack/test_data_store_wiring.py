"""The whole program, per stack: secrets of the cache and database never appear in plain text, and
only client security groups reach them (the connection contract: clients add both rules)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from components.cache import Cache, CacheArgs, CacheSpec
from components.database import Database, DatabaseArgs, DatabaseSpec
from components.memcached import MemcachedArgs, MemcachedCluster, MemcachedSpec
from mockcloud.runner import StackRun
from stack import exports
from stack.program import CacheStore, data_store_connection
from stack.settings import CACHE, DATABASE, MEMCACHED
from tests.support import ComponentRunner, config_defaults

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SECRET_NAMES = ("REDIS_AUTH_TOKEN", "DATABASE_PASSWORD")


def _plain_strings(value: struct_pb2.Value) -> Iterator[str]:
    """Every string in a wire-form value that is NOT inside a secret wrapper."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        yield value.string_value
    elif kind == "list_value":
        for item in value.list_value.values:
            yield from _plain_strings(item)
    elif kind == "struct_value":
        fields = value.struct_value.fields
        sig = fields.get(rpc._special_sig_key)
        if sig is not None and sig.string_value == rpc._special_secret_sig:
            return
        for item in fields.values():
            yield from _plain_strings(item)


def _secret_values(run: StackRun) -> list[str]:
    return [r.outputs["result"] for r in run.of_type("random:index/randomPassword:RandomPassword")]


def test_no_secret_value_in_plain_text_anywhere(stack_run: StackRun) -> None:
    secrets = _secret_values(stack_run)
    assert secrets, "the cache AUTH token should be generated in this stack"
    for resource in stack_run.resources:
        if resource.type == "random:index/randomPassword:RandomPassword":
            continue
        for key, value in resource.wire_inputs.fields.items():
            for text in _plain_strings(value):
                assert not any(s in text for s in secrets), f"{resource.name}.{key} carries a secret in plain text"
    assert not any(s in json.dumps(stack_run.outputs, default=str) for s in secrets)


def _containers(run: StackRun) -> Iterator[tuple[str, dict[str, Any]]]:
    for task in run.of_type(TASK_DEFINITION):
        raw = task.inputs.get("containerDefinitions")
        for container in json.loads(raw) if isinstance(raw, str) else []:
            yield task.name, container


def test_task_environments_hold_no_secret_and_secrets_come_from_secrets_manager(stack_run: StackRun) -> None:
    out = stack_run.outputs
    allowed_arns = {out[exports.CACHE_AUTH_SECRET_ARN], out[exports.DATABASE_SECRET_ARN]}
    for task, container in _containers(stack_run):
        environment = {e["name"]: e["value"] for e in container.get("environment") or []}
        assert not set(SECRET_NAMES) & set(environment), f"{task}: a secret in the plain environment"
        assert not any(word in name for name in environment for word in ("PASSWORD", "TOKEN", "SECRET")), (
            f"{task}: secret-looking variable in the plain environment"
        )
        for secret in container.get("secrets") or []:
            if secret["name"] in SECRET_NAMES:
                arn = secret["valueFrom"].removesuffix(":password::")
                assert arn in allowed_arns, f"{task}: {secret['name']} from an unexpected secret {arn}"


def test_only_client_security_groups_reach_the_data_stores(stack_run: StackRun) -> None:
    out = stack_run.outputs
    stores = {
        out[exports.CACHE_SECURITY_GROUP_ID]: out[exports.CACHE_PORT],
        out[exports.DATABASE_SECURITY_GROUP_ID]: out[exports.DATABASE_PORT],
    }
    egress = {
        (r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId"), r.inputs.get("fromPort"))
        for r in stack_run.of_type(EGRESS)
    }
    reached: set[str] = set()
    for rule in stack_run.of_type(INGRESS):
        store = rule.inputs["securityGroupId"]
        if store not in stores:
            continue
        inputs = rule.inputs
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(inputs), f"{rule.name}: CIDR access to a data store"
        client = inputs["referencedSecurityGroupId"]
        assert (inputs["ipProtocol"], inputs["fromPort"], inputs["toPort"]) == ("tcp", stores[store], stores[store])
        assert inputs.get("description"), f"{rule.name} needs a description"
        assert (client, store, stores[store]) in egress, f"{rule.name}: the client has no matching egress rule"
        reached.add(store)
    if stack_run.of_type("aws:ecs/service:Service"):
        assert reached == set(stores), "services exist but do not reach both the cache and the database"


# -- the connection handed to the services ----------------------------------------------------------
CMK = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _connection(run_component: ComponentRunner, *, engine: str = "valkey", kms: str | None = None) -> StackRun:
    derived: dict[str, Any] = {"identifier": "t", "protect": False, "apply_immediately": False}

    def program() -> None:
        subnets = ["subnet-0iso1", "subnet-0iso2"]
        placement: dict[str, Any] = {
            "vpc_id": "vpc-1",
            "subnet_ids": subnets,
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
        }
        cache: CacheStore
        if engine == "memcached":
            spec = MemcachedSpec(**{**config_defaults(MEMCACHED, MemcachedSpec), **derived, "engine_version": "1.6.22"})
            cache = MemcachedCluster("cache", MemcachedArgs(**placement, spec=spec))
        else:
            cache = Cache(
                "cache",
                CacheArgs(
                    **placement,
                    spec=CacheSpec(
                        **{
                            **config_defaults(CACHE, CacheSpec),
                            **derived,
                            "engine": engine,
                            "kms_key_arn": kms,
                            "final_snapshot": False,
                        }
                    ),
                ),
            )
        database = Database(
            "db",
            DatabaseArgs(
                vpc_id="vpc-1",
                subnet_ids=subnets,
                spec=DatabaseSpec(
                    **{
                        **config_defaults(DATABASE, DatabaseSpec),
                        "identifier": "t",
                        "apply_immediately": False,
                        "kms_key_arn": kms,
                    }
                ),
            ),
        )
        connection = data_store_connection(cache, database)
        pulumi.export("environment", connection.environment)
        pulumi.export("secrets", {name: ref.value_from for name, ref in connection.secrets.items()})
        pulumi.export("keys", connection.secret_kms_key_arns)
        pulumi.export("dependencies", [[d.security_group_id, d.port] for d in connection.dependencies])
        if isinstance(cache, Cache):
            pulumi.export("cache", [cache.primary_endpoint, cache.auth_secret_arn, cache.security_group_id])
        else:
            pulumi.export("cache", [cache.configuration_endpoint, None, cache.security_group_id])
        pulumi.export("database", [database.endpoint, database.secret_arn, database.security_group_id])

    return run_component(program)


def test_services_get_hosts_in_env_and_credentials_as_secrets(run_component: ComponentRunner) -> None:
    out = _connection(run_component).outputs
    cache_host, cache_secret, cache_sg = out["cache"]
    db_host, db_secret, db_sg = out["database"]
    assert out["environment"] == {
        "DATABASE_HOST": db_host,
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "catalog",
        "DATABASE_USER": "catalog_admin",
        "DATABASE_SSL": "true",
        "REDIS_HOST": cache_host,
        "REDIS_PORT": "6379",
        "REDIS_TLS": "true",
        "REDIS_CLUSTER_MODE": "false",
    }
    assert out["secrets"] == {"REDIS_AUTH_TOKEN": cache_secret, "DATABASE_PASSWORD": f"{db_secret}:password::"}
    assert out["keys"] == []
    assert out["dependencies"] == [[db_sg, 5432], [cache_sg, 6379]]


def test_customer_managed_keys_are_passed_for_decrypt(run_component: ComponentRunner) -> None:
    assert _connection(run_component, kms=CMK).outputs["keys"] == [CMK]


def test_memcached_is_offered_through_its_configuration_endpoint_without_auth(run_component: ComponentRunner) -> None:
    out = _connection(run_component, engine="memcached").outputs
    host, _, cache_sg = out["cache"]
    assert not any(name.startswith("REDIS_") for name in out["environment"])
    assert {k: v for k, v in out["environment"].items() if not k.startswith("DATABASE_")} == {
        "CACHE_BACKEND": "memcached",
        "MEMCACHED_HOST": host,
        "MEMCACHED_PORT": "11211",
        "MEMCACHED_TLS": "true",
        "MEMCACHED_AUTODISCOVERY": "true",
    }
    assert set(out["secrets"]) == {"DATABASE_PASSWORD"}  # Memcached has no AUTH on ElastiCache
    assert out["dependencies"][1] == [cache_sg, 11211]
