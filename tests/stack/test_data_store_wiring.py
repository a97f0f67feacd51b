"""The whole program, per stack: secrets of the cache and database never appear in plain text, and
only client security groups reach them (the connection contract: clients add both rules)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from platform_contracts.fargate_service import is_secret_name
from pulumi.runtime import rpc

from components.aws_context import AwsContext
from components.cache import Cache, CacheArgs, CacheSpec
from components.database import Database, DatabaseArgs, DatabaseSpec
from components.memcached import MemcachedArgs, MemcachedCluster, MemcachedSpec
from mockcloud.runner import StackRun
from stack import exports
from stack.program import CacheStore, data_store_connection
from stack.settings import CACHE, DATABASE, MEMCACHED
from tests.support import ComponentRunner, cached_run, config_defaults

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


def test_no_long_lived_secret_is_generated_with_iam_authentication(stack_run: StackRun) -> None:
    assert _secret_values(stack_run) == []
    assert stack_run.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []


def test_no_secret_value_in_plain_text_anywhere() -> None:
    stack_run = cached_run("prod", cacheEngine="redis", cacheEngineVersion="6.2")  # no IAM auth: a token
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
        assert not [name for name in environment if is_secret_name(name)], (
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
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")


def _connection(
    run_component: ComponentRunner,
    *,
    engine: str = "valkey",
    version: str | None = None,
    kms: str | None = None,
    db_iam: bool = True,
) -> StackRun:
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
            values = {**config_defaults(CACHE, CacheSpec), **derived, "engine": engine, "kms_key_arn": kms}
            values |= {"final_snapshot": False, **({"engine_version": version} if version else {})}
            cache = Cache("cache", CacheArgs(context=CONTEXT, **placement, spec=CacheSpec(**values)))
        database = Database(
            "db",
            DatabaseArgs(
                context=CONTEXT,
                vpc_id="vpc-1",
                subnet_ids=subnets,
                spec=DatabaseSpec(
                    **{
                        **config_defaults(DATABASE, DatabaseSpec),
                        "identifier": "t",
                        "apply_immediately": False,
                        "kms_key_arn": kms,
                        "iam_auth": db_iam,
                    }
                ),
            ),
        )
        connection = data_store_connection(cache, database, "eu-west-1")
        pulumi.export("environment", connection.environment)
        for runs in (True, False):
            pulumi.export(
                f"secrets_{runs}",
                {name: ref.value_from for name, ref in connection.secrets_for(runs_migrations=runs).items()},
            )
        pulumi.export("keys", connection.secret_kms_key_arns)
        pulumi.export("task_policies", connection.task_policies)
        pulumi.export("reads_secrets", connection.reads_secrets_at_runtime)
        pulumi.export("dependencies", [[d.security_group_id, d.port] for d in connection.dependencies])
        if isinstance(cache, Cache):
            pulumi.export("cache", [cache.primary_endpoint, cache.auth_secret_arn, cache.security_group_id])
            pulumi.export("cache_statements", cache.client_policy_statements)
        else:
            pulumi.export("cache", [cache.configuration_endpoint, None, cache.security_group_id])
        pulumi.export("database", [database.endpoint, database.secret_arn, database.security_group_id])
        pulumi.export("database_statements", database.client_policy_statements)

    return run_component(program)


def test_with_iam_the_app_gets_who_to_be_and_only_the_migrations_get_a_password(
    run_component: ComponentRunner,
) -> None:
    """The env contract the app implements (app/README.md): DATABASE_AUTH, DATABASE_APP_USER, REDIS_AUTH,
    REDIS_USER, REDIS_CACHE_NAME, AWS_REGION; the master password only where migrations run."""
    out = _connection(run_component).outputs
    cache_host, cache_secret, cache_sg = out["cache"]
    db_host, db_secret, db_sg = out["database"]
    assert cache_secret is None
    assert out["environment"] == {
        "AWS_REGION": "eu-west-1",
        "DATABASE_HOST": db_host,
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "catalog",
        "DATABASE_USER": "catalog_admin",
        "DATABASE_SSL": "true",
        "DATABASE_AUTH": "iam",
        "DATABASE_APP_USER": "catalog_app",
        "REDIS_HOST": cache_host,
        "REDIS_PORT": "6379",
        "REDIS_TLS": "true",
        "REDIS_CLUSTER_MODE": "false",
        "REDIS_AUTH": "iam",
        "REDIS_USER": "t-app",
        "REDIS_CACHE_NAME": "t",
    }
    assert out["secrets_True"] == {"DATABASE_PASSWORD": f"{db_secret}:password::"}
    assert out["secrets_False"] == {}
    assert out["task_policies"] == {"database": out["database_statements"], "cache": out["cache_statements"]}
    assert [s["Action"] for p in out["task_policies"].values() for s in p] == ["rds-db:connect", "elasticache:Connect"]
    assert out["reads_secrets"] is False
    assert out["keys"] == []
    assert out["dependencies"] == [[db_sg, 5432], [cache_sg, 6379]]


def test_password_authentication_stays_as_the_fallback(run_component: ComponentRunner) -> None:
    out = _connection(run_component, db_iam=False).outputs
    assert out["environment"]["DATABASE_AUTH"] == "password"
    assert "DATABASE_APP_USER" not in out["environment"]
    db_secret = out["database"][1]
    assert out["secrets_True"] == out["secrets_False"] == {"DATABASE_PASSWORD": f"{db_secret}:password::"}
    assert "database" not in out["task_policies"]


def test_without_iam_auth_the_app_reads_the_rotated_token_itself(run_component: ComponentRunner) -> None:
    out = _connection(run_component, engine="redis", version="6.2").outputs
    _, cache_secret, _ = out["cache"]
    environment = out["environment"]
    assert (environment["REDIS_AUTH"], environment["REDIS_AUTH_SECRET_ARN"]) == ("token", cache_secret)
    assert not {"REDIS_USER", "REDIS_CACHE_NAME"} & set(environment)
    # Not an ECS secret: the value at start would go stale at the first rotation.
    assert "REDIS_AUTH_TOKEN" not in out["secrets_True"] | out["secrets_False"]
    assert out["task_policies"]["cache"] == out["cache_statements"]
    assert out["cache_statements"][0]["Resource"] == cache_secret
    assert out["reads_secrets"] is True


def test_customer_managed_keys_are_passed_for_decrypt(run_component: ComponentRunner) -> None:
    assert _connection(run_component, kms=CMK).outputs["keys"] == [CMK]


def test_memcached_is_offered_through_its_configuration_endpoint_without_auth(run_component: ComponentRunner) -> None:
    out = _connection(run_component, engine="memcached").outputs
    host, _, cache_sg = out["cache"]
    assert not any(name.startswith("REDIS_") for name in out["environment"])
    assert {k: v for k, v in out["environment"].items() if not k.startswith(("DATABASE_", "AWS_"))} == {
        "CACHE_BACKEND": "memcached",
        "MEMCACHED_HOST": host,
        "MEMCACHED_PORT": "11211",
        "MEMCACHED_TLS": "true",
        "MEMCACHED_AUTODISCOVERY": "true",
    }
    assert set(out["task_policies"]) == {"database"}  # Memcached has no AUTH on ElastiCache
    assert out["dependencies"][1] == [cache_sg, 11211]
