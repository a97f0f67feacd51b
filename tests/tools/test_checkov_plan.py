"""tools/checkov_plan.py: the offline plan as a Terraform plan checkov reads, and the accepted findings."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import pytest

from mockcloud.runner import StackRun
from offline.plan_output import SECRET, UNKNOWN, plan_document
from tools.checkov_plan import (
    ACCEPTED,
    SECRET_PLACEHOLDER,
    TERRAFORM_TYPES,
    Accepted,
    baseline,
    classify,
    convert,
    terraform_type,
)

URN = "urn:pulumi:prod::container-platform::platform:x:X$"


def _resource(
    token: str, name: str, inputs: dict[str, Any], deps: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {
        "urn": f"{URN}{token}::{name}",
        "type": token,
        "name": name,
        "custom": True,
        "inputs": inputs,
        "propertyDependencies": deps or {},
    }


def _values(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["address"]: r["values"] for r in document["planned_values"]["root_module"]["resources"]}


def _plan(run: StackRun) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(plan_document(run), default=str))
    return document


def test_every_aws_type_of_the_stacks_has_its_terraform_type_in_the_table(stack_run: StackRun) -> None:
    tokens = {r.type for r in stack_run.resources if r.custom and r.type.startswith("aws:")}
    assert tokens - TERRAFORM_TYPES.keys() == set(), "add the bridge's Terraform type to TERRAFORM_TYPES"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("aws:rds/instance:Instance", "aws_db_instance"),
        ("aws:lb/loadBalancer:LoadBalancer", "aws_lb"),
        ("aws:servicediscovery/service:Service", "aws_service_discovery_service"),
        ("aws:ec2/securityGroup:SecurityGroup", "aws_security_group"),
        ("aws:ecs/taskDefinition:TaskDefinition", "aws_ecs_task_definition"),
        ("aws:sqs/queue:Queue", "aws_sqs_queue"),  # not in the table: the bridge's default rule
        ("docker:index/image:Image", None),
        ("platform:ecs:FargateService", None),
    ],
)
def test_terraform_types(token: str, expected: str | None) -> None:
    assert terraform_type(token) == expected


def test_table_entries_are_terraform_names() -> None:
    assert all(re.fullmatch(r"aws_[a-z0-9_]+", t) for t in TERRAFORM_TYPES.values())


def test_values_take_terraform_names_and_shapes() -> None:
    service = _resource(
        "aws:ecs/service:Service",
        "api-service",
        {
            "loadBalancers": [{"targetGroupArn": "arn:tg", "containerPort": 8080.0}],
            "networkConfiguration": {"assignPublicIp": False, "subnets": ["subnet-1"]},
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "taskDefinition": UNKNOWN,
            "tags": {"Name": "api", "team": "platform"},
        },
    )
    alarm = _resource(
        "aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", {"dimensions": {"LoadBalancer": "app/x", "cacheId": "c"}}
    )
    role = _resource(
        "aws:iam/role:Role",
        "role",
        {"assumeRolePolicy": {"Version": "2012-10-17", "Statement": []}, "inlinePolicies": [{"name": "p"}]},
    )
    group = _resource("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {"authToken": SECRET})
    plan = {
        "config": {"aws:defaultTags": json.dumps({"tags": {"Project": "p", "Name": "default"}})},
        "resources": [service, alarm, role, group, {**service, "type": "docker:index/image:Image", "urn": "u"}],
    }
    converted = convert(plan)
    values = _values(converted.document)
    svc = values["aws_ecs_service.api-service"]
    assert svc["load_balancer"] == [{"target_group_arn": "arn:tg", "container_port": 8080}]
    assert svc["network_configuration"] == [{"assign_public_ip": False, "subnets": ["subnet-1"]}]
    assert svc["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert svc["task_definition"] is None  # unknown at preview: Terraform's "known after apply"
    assert svc["tags"] == {"Name": "api", "team": "platform"}  # map keys are data: never renamed
    assert svc["tags_all"] == {"Project": "p", "Name": "api", "team": "platform"}
    assert values["aws_cloudwatch_metric_alarm.alarm"]["dimensions"] == {"LoadBalancer": "app/x", "cacheId": "c"}
    assert json.loads(values["aws_iam_role.role"]["assume_role_policy"]) == {"Version": "2012-10-17", "Statement": []}
    assert values["aws_iam_role.role"]["inline_policy"] == [{"name": "p"}]
    assert values["aws_elasticache_replication_group.cache"]["auth_token"] == SECRET_PLACEHOLDER
    assert converted.skipped_types == ("docker:index/image:Image",)
    resource = converted.document["planned_values"]["root_module"]["resources"][0]
    assert (resource["mode"], resource["type"], resource["name"]) == ("managed", "aws_ecs_service", "api-service")


def test_property_dependencies_become_references_and_names_stay_unique() -> None:
    bucket = _resource("aws:s3/bucket:Bucket", "logs", {"bucket": "b"})
    block = _resource(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "logs",
        {"bucket": "b", "blockPublicAcls": True},
        deps={"bucket": [bucket["urn"]], "blockPublicAcls": []},
    )
    twin = {**block, "urn": block["urn"] + "-2"}
    document = convert({"resources": [bucket, block, twin]}).document
    addresses = [r["address"] for r in document["planned_values"]["root_module"]["resources"]]
    assert addresses == [
        "aws_s3_bucket.logs",
        "aws_s3_bucket_public_access_block.logs",
        "aws_s3_bucket_public_access_block.logs_2",
    ]
    expressions = {r["address"]: r["expressions"] for r in document["configuration"]["root_module"]["resources"]}
    assert expressions["aws_s3_bucket_public_access_block.logs"] == {
        "bucket": {"references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]}
    }
    assert expressions["aws_s3_bucket.logs"] == {}


def test_the_baseline_names_only_accepted_pairs() -> None:
    accepted = (Accepted(check_id="CKV_X_1", resources=("aws_lb.*-nlb",), reason="why"),)
    document = convert(
        {
            "resources": [
                _resource("aws:lb/loadBalancer:LoadBalancer", "prod-nlb", {}),
                _resource("aws:lb/loadBalancer:LoadBalancer", "prod-alb", {}),
            ]
        }
    ).document
    assert baseline(document, accepted) == {
        "failed_checks": [
            {"file": "/plan.json", "findings": [{"resource": "aws_lb.prod-nlb", "check_ids": ["CKV_X_1"]}]}
        ]
    }


def test_classify_splits_failures_by_the_accepted_list() -> None:
    accepted = (Accepted(check_id="CKV_X_1", resources=("aws_lb.*-nlb",), reason="why"),)
    report = {
        "results": {
            "passed_checks": [{"check_id": "CKV_X_2", "resource": "aws_lb.prod-nlb"}],
            "failed_checks": [
                {"check_id": "CKV_X_1", "resource": "aws_lb.prod-nlb", "check_name": "n"},
                {"check_id": "CKV_X_1", "resource": "aws_lb.prod-alb", "check_name": "n"},  # same check, other LB
            ],
        }
    }
    outcome = classify(report, accepted)
    assert outcome.passed == 1
    assert [(f.check_id, f.resource) for f in outcome.failed] == [("CKV_X_1", "aws_lb.prod-alb")]
    assert [(f.resource, a.reason) for f, a in outcome.accepted] == [("aws_lb.prod-nlb", "why")]
    assert not outcome.clean


def test_accepted_entries_are_specific_and_explained() -> None:
    for entry in ACCEPTED:
        assert re.fullmatch(r"CKV2?_AWS_\d+", entry.check_id), entry
        assert entry.resources, entry
        assert all(re.fullmatch(r"aws_[a-z0-9_]+\.[\w*-]+", p) for p in entry.resources), entry
        assert len(entry.reason) > 40, entry


def test_every_accepted_pattern_still_names_a_resource_of_a_stack(dev_run: StackRun, prod_run: StackRun) -> None:
    """A stale entry would silently accept a finding on a resource added later under that name."""
    addresses = [
        r["address"]
        for run in (dev_run, prod_run)
        for r in convert(_plan(run)).document["planned_values"]["root_module"]["resources"]
    ]
    unused = [
        (entry.check_id, pattern)
        for entry in ACCEPTED
        for pattern in entry.resources
        if not any(fnmatch.fnmatchcase(address, pattern) for address in addresses)
    ]
    assert unused == []
