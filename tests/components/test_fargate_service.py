"""One Fargate service alone: task definition (validated by botocore), IAM, security groups, scaling."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.ecs_cluster import CapacityProviderShare
from components.errors import InputError
from components.fargate_service import (
    COMPUTED,
    CONTAINER_SPEC,
    FARGATE_MEMORY_BY_CPU,
    FARGATE_SERVICE_TYPE,
    AutoScaling,
    CloudMapRegistration,
    ContainerHealthCheck,
    Dependency,
    ExecAccess,
    FargateService,
    FargateServiceArgs,
    HttpsEgress,
    LoadBalancerAttachment,
    SecretRef,
    TaskSize,
    fargate_memory_options,
    healthz_command,
    validate_task_size,
)
from mockcloud.runner import StackRun
from stack.settings import autoscaling_keys
from tests.aws_validation import (
    register_task_definition_request,
    statements,
    validate_register_task_definition,
    wildcard_actions,
)
from tests.support import ComponentRunner, config_defaults, unknown_paths

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/platform/app@{DIGEST}"
DB_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
REDIS_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform-redis-auth-XyZ123"
ALB_SG = "sg-0a1b0a1b0a1b0a1b0"
CACHE_SG = "sg-0cac0cac0cac0cac0"
DB_SG = "sg-0db00db00db00db00"
EXEC = ExecAccess(
    log_group_arn="arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ecs/platform-dev/exec",
    kms_key_alias="alias/platform-dev-exec",
)

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def scaling(**overrides: Any) -> AutoScaling:
    """Auto-scaling at Pulumi.yaml's default targets; bounds and targets overridden by field name."""
    return AutoScaling(**{**config_defaults(autoscaling_keys("api"), AutoScaling), **overrides})


def _args(**overrides: Any) -> FargateServiceArgs:
    if "cpu" in overrides or "memory" in overrides:
        overrides["size"] = TaskSize(cpu=overrides.pop("cpu", 512), memory=overrides.pop("memory", 1024))
    values: dict[str, Any] = {
        "context": CONTEXT,
        "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/platform-dev",
        "cluster_name": "platform-dev",
        "service_name": "api",
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-private-a", "subnet-private-b"],
        "image": IMAGE,
        "size": TaskSize(cpu=512, memory=1024),
        "cpu_architecture": "ARM64",
        "environment": {"APP_ENV": "dev", "SERVICE_ROLE": "api", "PORT": "8080", "DATABASE_HOST": "db.internal"},
        "secrets": {
            "DATABASE_PASSWORD": SecretRef(arn=DB_SECRET, json_key="password"),
            "REDIS_AUTH_TOKEN": SecretRef(arn=REDIS_SECRET),
        },
        "load_balancer": LoadBalancerAttachment(
            security_group_id=ALB_SG,
            target_group_arn="arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0123456789abcdef",
            target_group_arn_suffix="targetgroup/api/0123456789abcdef",
            load_balancer_arn_suffix="app/web/fedcba9876543210",
        ),
        "autoscaling": scaling(min_capacity=2, max_capacity=6),
        "capacity_provider_strategy": (CapacityProviderShare(provider="FARGATE", base=1, weight=1),),
        "dependencies": [Dependency(CACHE_SG, 6379, "Redis"), Dependency(DB_SG, 5432, "PostgreSQL")],
        "https_egress": HttpsEgress(security_group_ids=["sg-0e0e0e0e0e0e0e0e0"], prefix_list_ids=["pl-6da54004"]),
        "discovery": CloudMapRegistration(namespace_id="ns-0123456789abcdef", namespace_name="dev.platform.internal"),
        "execute_command": EXEC,
        **overrides,
    }
    return FargateServiceArgs(**values)


def _service(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: FargateService("api", _args(**overrides)), preview=preview)


def _container(run: StackRun) -> dict[str, Any]:
    definitions = json.loads(run.one(TASK_DEFINITION).inputs["containerDefinitions"])
    assert len(definitions) == 1
    container: dict[str, Any] = definitions[0]
    return container


def _role_policies(run: StackRun, role_suffix: str) -> list[str]:
    role = next(r for r in run.of_type("aws:iam/role:Role") if r.name.endswith(role_suffix))
    return [p.inputs["policy"] for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.id]


# -- task definition ------------------------------------------------------------------------------
def test_task_definition_is_a_valid_register_task_definition_request(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    request = register_task_definition_request(run.one(TASK_DEFINITION))
    assert validate_register_task_definition(request) == []
    assert request["requiresCompatibilities"] == ["FARGATE"]
    assert request["networkMode"] == "awsvpc"
    assert (request["cpu"], request["memory"]) == ("512", "1024")
    assert request["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}


def test_botocore_validation_catches_a_broken_definition(run_component: ComponentRunner) -> None:
    request = register_task_definition_request(_service(run_component).one(TASK_DEFINITION))
    request["containerDefinitions"][0]["portMappings"][0]["containerPort"] = "8080"
    request["containerDefinitions"][0]["healthChek"] = {}
    errors = "\n".join(validate_register_task_definition(request))
    assert "containerPort" in errors
    assert "healthChek" in errors


def test_container_is_hardened(run_component: ComponentRunner) -> None:
    container = _container(_service(run_component))
    assert container["image"] == IMAGE
    assert "@sha256:" in container["image"]
    assert container["essential"] is True
    assert container["user"] == "10001:10001"
    assert container["privileged"] is False
    assert container["readonlyRootFilesystem"] is True
    assert {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False} in container["mountPoints"]
    assert container["stopTimeout"] == 30
    assert container["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert container["linuxParameters"]["initProcessEnabled"] is True
    logs = container["logConfiguration"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == "/ecs/platform-dev/api"
    assert logs["options"]["awslogs-region"] == "eu-west-1"


def test_container_health_check_calls_healthz_with_python(run_component: ComponentRunner) -> None:
    hc = _container(_service(run_component))["healthCheck"]
    assert hc["command"][:3] == ["CMD", "python3", "-c"]
    assert "http://127.0.0.1:8080/healthz" in hc["command"][3]
    assert "curl" not in json.dumps(hc)
    assert (hc["interval"], hc["timeout"], hc["retries"], hc["startPeriod"]) == (15, 5, 3, 30)
    compile(hc["command"][3], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_environment_and_secrets(run_component: ComponentRunner) -> None:
    container = _container(_service(run_component))
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert env == {"APP_ENV": "dev", "DATABASE_HOST": "db.internal", "PORT": "8080", "SERVICE_ROLE": "api"}
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets == {"DATABASE_PASSWORD": f"{DB_SECRET}:password::", "REDIS_AUTH_TOKEN": REDIS_SECRET}


def test_exec_needs_writable_agent_paths_and_they_go_without_exec(run_component: ComponentRunner) -> None:
    with_exec = _service(run_component)
    paths = {m["containerPath"] for m in _container(with_exec)["mountPoints"]}
    assert paths == {"/tmp", "/var/lib/amazon", "/var/log/amazon"}
    volumes = {v["name"] for v in with_exec.one(TASK_DEFINITION).inputs["volumes"]}
    assert volumes == {"tmp", "var-lib-amazon", "var-log-amazon"}
    assert with_exec.one(SERVICE).inputs["enableExecuteCommand"] is True

    without = _service(run_component, execute_command=None)
    assert {m["containerPath"] for m in _container(without)["mountPoints"]} == {"/tmp"}
    assert without.one(SERVICE).inputs["enableExecuteCommand"] is False
    assert len(without.of_type("aws:iam/rolePolicy:RolePolicy")) == 2  # execution role only


# -- IAM ------------------------------------------------------------------------------------------
def test_roles_are_distinct_and_trust_only_this_accounts_tasks(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    td = run.one(TASK_DEFINITION).inputs
    assert td["taskRoleArn"] == "arn:aws:iam::123456789012:role/platform-dev-api-task-eu-west-1"
    assert td["executionRoleArn"] == "arn:aws:iam::123456789012:role/platform-dev-api-exec-eu-west-1"
    assert td["taskRoleArn"] != td["executionRoleArn"]
    roles = run.of_type("aws:iam/role:Role")
    assert {r.outputs["arn"] for r in roles} == {td["taskRoleArn"], td["executionRoleArn"]}
    for role in roles:
        (trust,) = statements(role.inputs["assumeRolePolicy"])
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
        assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:ecs:eu-west-1:123456789012:*"
    # the task definition waits for the roles it names
    role_urns = {r.urn for r in roles}
    assert role_urns <= set(run.one(TASK_DEFINITION).dependencies)


def test_task_role_has_no_wildcard_actions_and_scoped_exec(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    (policy,) = _role_policies(run, "-task-role")
    assert wildcard_actions(policy) == []
    by_sid = {s["Sid"]: s for s in statements(policy)}
    channels = by_sid["ExecSessionChannels"]
    assert sorted(channels["Action"]) == [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    assert by_sid["ExecWriteSessionLogs"]["Resource"] == f"{EXEC.log_group_arn}:*"
    decrypt = by_sid["ExecDecryptSession"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/platform-dev-exec"}}
    # every statement that is not resource-scopable is one AWS documents that way
    unscoped = {s["Sid"] for s in statements(policy) if s["Resource"] == "*"}
    assert unscoped == {"ExecSessionChannels", "ExecFindLogGroup"}


def test_execution_role_reads_exactly_its_secrets(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    documents = _role_policies(run, "-exec-role")
    assert len(documents) == 2
    for document in documents:
        assert wildcard_actions(document) == []
    all_statements = [s for d in documents for s in statements(d)]
    by_sid = {s["Sid"]: s for s in all_statements}
    assert by_sid["ReadInjectedSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    # the JSON-key suffix is not part of the secret's ARN
    assert by_sid["ReadInjectedSecrets"]["Resource"] == sorted([DB_SECRET, REDIS_SECRET])
    assert by_sid["PullAppImage"]["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/platform/app"
    assert by_sid["WriteOwnLogs"]["Resource"] == (
        "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/platform-dev/api:log-stream:*"
    )
    assert by_sid["EcrAuthToken"] == {
        "Sid": "EcrAuthToken",
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*",
    }
    assert "ReadInjectedParameters" not in by_sid


def test_ssm_parameters_and_customer_managed_keys(run_component: ComponentRunner) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    param = "arn:aws:ssm:eu-west-1:123456789012:parameter/platform/dev/api-key"
    run = _service(
        run_component,
        secrets={"THIRD_PARTY_API_KEY": SecretRef(arn=param, kind="ssm")},
        secret_kms_key_arns=[key],
    )
    by_sid = {s["Sid"]: s for d in _role_policies(run, "-exec-role") for s in statements(d)}
    assert by_sid["ReadInjectedParameters"] == {
        "Sid": "ReadInjectedParameters",
        "Effect": "Allow",
        "Action": "ssm:GetParameters",
        "Resource": [param],
    }
    assert by_sid["DecryptSecretsViaTheirServices"]["Resource"] == [key]
    assert "ReadInjectedSecrets" not in by_sid


def test_log_group_retention_and_kms(run_component: ComponentRunner) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    group = _service(run_component, log_retention_days=90, log_kms_key_arn=key).one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs == {**group.inputs, "name": "/ecs/platform-dev/api", "retentionInDays": 90, "kmsKeyId": key}


# -- network --------------------------------------------------------------------------------------
def test_tasks_admit_only_the_alb_and_connections_follow_the_contract(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    sg = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    ingress = {(r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId"), r.inputs["fromPort"])
               for r in run.of_type(INGRESS)}  # fmt: skip
    assert ingress == {(sg.id, ALB_SG, 8080), (CACHE_SG, sg.id, 6379), (DB_SG, sg.id, 5432)}
    assert not [r for r in run.of_type(INGRESS) if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")]
    egress = {(r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId") or r.inputs.get("prefixListId"),
               r.inputs["fromPort"]) for r in run.of_type(EGRESS)}  # fmt: skip
    assert egress == {
        (ALB_SG, sg.id, 8080),
        (sg.id, CACHE_SG, 6379),
        (sg.id, DB_SG, 5432),
        (sg.id, "sg-0e0e0e0e0e0e0e0e0", 443),
        (sg.id, "pl-6da54004", 443),
    }
    for rule in [*run.of_type(INGRESS), *run.of_type(EGRESS)]:
        assert rule.inputs["description"]
        assert rule.inputs["ipProtocol"] == "tcp"


def test_service_runs_privately_with_safe_deployments(run_component: ComponentRunner) -> None:
    run = _service(run_component)
    service = run.one(SERVICE)
    inputs = service.inputs
    assert inputs["name"] == "api"
    assert inputs["networkConfiguration"] == {
        "subnets": ["subnet-private-a", "subnet-private-b"],
        "securityGroups": [run.one("aws:ec2/securityGroup:SecurityGroup").id],
        "assignPublicIp": False,
    }
    assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (inputs["deploymentMinimumHealthyPercent"], inputs["deploymentMaximumPercent"]) == (100, 200)
    assert inputs["healthCheckGracePeriodSeconds"] == 60
    assert inputs["loadBalancers"] == [
        {
            "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0123456789abcdef",
            "containerName": "app",
            "containerPort": 8080,
        }
    ]
    assert inputs["propagateTags"] == "SERVICE"
    assert inputs["enableEcsManagedTags"] is True
    assert inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "base": 1, "weight": 1}]
    assert "launchType" not in inputs
    assert inputs["desiredCount"] == 2
    assert "desiredCount" in service.options["ignoreChanges"]
    assert service.options["deleteBeforeReplace"] is True
    assert service.id == "arn:aws:ecs:eu-west-1:123456789012:service/platform-dev/api"


def test_cloud_map_registration(run_component: ComponentRunner) -> None:
    captured: dict[str, FargateService] = {}
    run = run_component(lambda: captured.setdefault("s", FargateService("api", _args())))
    discovery = run.one("aws:servicediscovery/service:Service")
    assert discovery.inputs["name"] == "api"
    assert discovery.inputs["dnsConfig"] == {
        "namespaceId": "ns-0123456789abcdef",
        "routingPolicy": "MULTIVALUE",
        "dnsRecords": [{"type": "A", "ttl": 10}],
    }
    assert run.one(SERVICE).inputs["serviceRegistries"] == {"registryArn": discovery.outputs["arn"]}
    assert captured["s"].discovery_name == "api.dev.platform.internal"


# -- scaling --------------------------------------------------------------------------------------
def test_target_tracking_on_cpu_memory_and_requests(run_component: ComponentRunner) -> None:
    run = _service(run_component, autoscaling=scaling(min_capacity=2, max_capacity=10, requests_per_target=500))
    target = run.one("aws:appautoscaling/target:Target")
    assert target.inputs["resourceId"] == "service/platform-dev/api"
    assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 10)
    assert run.one(SERVICE).urn in target.dependencies
    policies = {p.name: p.inputs for p in run.of_type("aws:appautoscaling/policy:Policy")}
    assert set(policies) == {"api-scale-cpu", "api-scale-memory", "api-scale-requests"}
    specs = {
        name: p["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
        for name, p in policies.items()
    }
    assert specs["api-scale-cpu"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert specs["api-scale-memory"]["predefinedMetricType"] == "ECSServiceAverageMemoryUtilization"
    assert specs["api-scale-requests"] == {
        "predefinedMetricType": "ALBRequestCountPerTarget",
        "resourceLabel": "app/web/fedcba9876543210/targetgroup/api/0123456789abcdef",
    }
    assert policies["api-scale-requests"]["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 500
    for p in policies.values():
        assert p["policyType"] == "TargetTrackingScaling"
        assert p["resourceId"] == "service/platform-dev/api"


# -- preview --------------------------------------------------------------------------------------
def test_policies_and_role_arns_are_known_at_preview(run_component: ComponentRunner) -> None:
    run = _service(run_component, preview=True)
    td = run.one(TASK_DEFINITION).inputs
    assert td["taskRoleArn"]
    assert td["executionRoleArn"]
    assert json.loads(td["containerDefinitions"])[0]["readonlyRootFilesystem"] is True
    # the role's ID is unknown at preview, so find the task role policy by name instead
    task_policy = next(p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "api-task-exec")
    assert wildcard_actions(task_policy.inputs["policy"]) == []


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cpu", "memory", "message"),
    [
        (
            256,
            4096,
            r"'memory' = 4096 is not valid; allowed: a Fargate memory size for cpu=256: one of 512, 1024, 2048$",
        ),
        (512, 512, r"for cpu=512: one of 1024, 2048, 3072, 4096$"),
        (1024, 1024, r"for cpu=1024: one of 2048, 3072, 4096, 5120, 6144, 7168, 8192$"),
        (4096, 31744, r"for cpu=4096: one of 8192, 9216, .*, 30720$"),
        (8192, 18432, r"for cpu=8192: one of 16384, 20480, 24576, .*, 61440$"),
        (300, 1024, r"'cpu' = 300 is not valid; allowed: one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ],
)
def test_invalid_cpu_memory_pairs_list_the_allowed_values(cpu: int, memory: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(cpu=cpu, memory=memory)


def test_every_documented_task_size_is_accepted() -> None:
    for cpu, memories in FARGATE_MEMORY_BY_CPU.items():
        for memory in memories:
            validate_task_size(cpu, memory)
    assert fargate_memory_options(16384)[-1] == 122880
    assert fargate_memory_options(2048) == tuple(range(4096, 16385, 1024))
    assert fargate_memory_options(128) == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"}, r"allowed: a digest-pinned reference"),
        (
            {"environment": {"DATABASE_PASSWORD": "hunter2"}, "secrets": {}},
            r"'environment' = \['DATABASE_PASSWORD'\] is not valid; allowed: no secret-looking names",
        ),
        ({"environment": {"REDIS_AUTH_TOKEN": "x"}, "secrets": {}}, r"no secret-looking names"),
        ({"environment": {"X": "1"}, "secrets": {"X": SecretRef(arn=DB_SECRET)}}, r"= \['X'\] .* not also in secrets"),
        ({"user": "root"}, r"'user' = 'root' is not valid; allowed: a numeric non-root uid"),
        ({"user": "0:0"}, r"'user' = '0:0'"),
        (
            {"stop_timeout_seconds": 121},
            r"'stop_timeout_seconds' = 121 is not valid; allowed: a whole number from 2 to 120",
        ),
        ({"cpu_architecture": "arm"}, r"'cpu_architecture' = 'arm' is not valid; allowed: one of X86_64, ARM64"),
        ({"service_name": "API"}, r"'service_name' = 'API'"),
        ({"min_healthy_percent": 100, "max_percent": 100}, r"no room to deploy"),
        ({"dependencies": [Dependency(CACHE_SG, 6379, "Redis"), Dependency(DB_SG, 5432, "redis")]}, r"distinct"),
        ({"cluster_name": "a-very-long-cluster-name-for-testing-role-name-limits"}, r"at most 64 characters"),
        ({"log_retention_days": 10}, r"'log_retention_days' = 10 is not valid"),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_capacity": 0, "max_capacity": 2}, r"'min_capacity' = 0 is not valid; allowed: a whole number from 1"),
        (
            {"min_capacity": 3, "max_capacity": 2},
            r"'max_capacity' = 2 is not valid; allowed: at least min_capacity \(3\)",
        ),
        ({"min_capacity": 1, "max_capacity": 5001}, r"at most 5000 tasks"),
        ({"min_capacity": 1, "max_capacity": 2, "cpu_target_percent": 99}, r"'cpu_target_percent' = 99"),
        ({"min_capacity": 1, "max_capacity": 2, "requests_per_target": 0}, r"'requests_per_target' = 0"),
    ],
)
def test_autoscaling_rejects_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        scaling(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"command": ["python3", "-c", "pass"]}, r"allowed: a command starting with CMD or CMD-SHELL"),
        (
            {"command": ["CMD", "true"], "timeout_seconds": 61},
            r"timeout_seconds' = 61 is not valid; allowed: .* 2 to 60",
        ),
        ({"command": ["CMD", "true"], "retries": 0}, r"retries' = 0 is not valid; allowed: .* 1 to 10"),
    ],
)
def test_container_health_check_ranges(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        ContainerHealthCheck(**kwargs)


def test_healthz_command_targets_the_port() -> None:
    assert "127.0.0.1:9000/healthz" in healthz_command(9000)[3]


def test_secret_keys_given_by_alias_are_granted_through_the_alias(run_component: ComponentRunner) -> None:
    alias = "arn:aws:kms:eu-west-1:123456789012:alias/platform-data"
    run = _service(run_component, secret_kms_key_arns=[alias])
    by_sid = {s["Sid"]: s for d in _role_policies(run, "-exec-role") for s in statements(d)}
    grant = by_sid["DecryptSecretsByKeyAlias"]
    assert grant["Resource"] == "arn:aws:kms:eu-west-1:123456789012:key/*"
    assert grant["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": ["alias/platform-data"]}
    assert grant["Condition"]["StringEquals"]["kms:ViaService"][0] == "secretsmanager.eu-west-1.amazonaws.com"
    assert "DecryptSecretsViaTheirServices" not in by_sid


# -- declared container spec (checked by the policy pack at preview) ------------------------------
REPOSITORY_ARN = "arn:aws:ecr:eu-west-1:123456789012:repository/platform/app"
REPOSITORY_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/platform/app"


def _computed_inputs_program(image_repository: str = "platform/app") -> Callable[[], None]:
    """Like the whole program: image digest, an environment value and a secret ARN are outputs."""

    def program() -> None:
        repo = aws.ecr.Repository("app", name=image_repository)
        secret = aws.secretsmanager.Secret("db-secret", name_prefix="db-")
        FargateService(
            "api",
            _args(
                image=repo.repository_url.apply(lambda url: f"{url}@{DIGEST}"),
                image_repository_arn=REPOSITORY_ARN,
                environment={"APP_ENV": "dev", "REGISTRY_ID": repo.registry_id},
                secrets={"DATABASE_PASSWORD": SecretRef(arn=secret.arn, json_key="password")},
            ),
        )

    return program


def test_container_spec_is_a_component_input_fully_known_at_preview(run_component: ComponentRunner) -> None:
    run = run_component(_computed_inputs_program(), preview=True)
    component = run.one(FARGATE_SERVICE_TYPE)
    # The task definition's one JSON string is unknown (digest, endpoint, secret ARN) ...
    assert unknown_paths(run.one(TASK_DEFINITION).wire_inputs) == [".containerDefinitions"]
    # ... the component's declared spec is not, neither as its input nor in its registered state.
    assert CONTAINER_SPEC in component.wire_inputs.fields
    assert unknown_paths(component.wire_inputs) == []
    assert component.registered_outputs is not None
    assert unknown_paths(component.registered_outputs.fields[CONTAINER_SPEC]) == []
    spec = component.inputs[CONTAINER_SPEC]
    assert spec["imageRepository"] == REPOSITORY_URL
    assert spec["imagePinnedByDigest"] is True
    assert spec["environment"] == [{"name": "APP_ENV", "value": "dev"}, {"name": "REGISTRY_ID", "value": COMPUTED}]
    assert spec["secrets"] == [{"name": "DATABASE_PASSWORD", "source": "secretsmanager", "jsonKey": "password"}]
    assert (spec["privileged"], spec["readonlyRootFilesystem"], spec["user"]) == (False, True, "10001:10001")
    assert spec["healthCheck"]["command"][:3] == ["CMD", "python3", "-c"]
    assert spec["logConfiguration"]["logDriver"] == "awslogs"


def test_task_definition_is_rendered_from_the_spec(run_component: ComponentRunner) -> None:
    captured: dict[str, FargateService] = {}
    run = run_component(lambda: captured.setdefault("s", FargateService("api", _args())))
    spec, container = captured["s"].container_spec, _container(run)
    assert run.one(FARGATE_SERVICE_TYPE).inputs[CONTAINER_SPEC] == spec
    assert container["image"] == f"{spec['imageRepository']}@{DIGEST}"
    same = set(spec) - {"imageRepository", "imagePinnedByDigest", "environment", "secrets"}
    assert set(container) == same | {"image", "environment", "secrets"}
    assert {key: container[key] for key in same} == {key: spec[key] for key in same}
    assert [e["name"] for e in container["environment"]] == [e["name"] for e in spec["environment"]]
    assert [s["name"] for s in container["secrets"]] == [s["name"] for s in spec["secrets"]]


def test_repository_is_derived_from_a_plain_image_or_required(run_component: ComponentRunner) -> None:
    assert _args().image_repository_url == REPOSITORY_URL
    assert _args(image_repository_arn=REPOSITORY_ARN).image_repository_url == REPOSITORY_URL
    computed = pulumi.Output.from_input(IMAGE)
    with pytest.raises(InputError, match=r"'image_repository_arn' = None .* when image is computed"):
        _args(image=computed)
    with pytest.raises(InputError, match=r"allowed: an image in image_repository_arn's repository .*/platform/other"):
        _args(image_repository_arn="arn:aws:ecr:eu-west-1:123456789012:repository/platform/other")
    with pytest.raises(
        InputError, match=r"'image_repository_arn' = 'platform/app' is not valid; allowed: arn:aws:ecr:"
    ):
        _args(image=computed, image_repository_arn="platform/app")


def test_an_image_outside_the_declared_repository_fails_the_update(run_component: ComponentRunner) -> None:
    with pytest.raises(Exception, match=r"an image in the declared repository .*/platform/app"):
        run_component(_computed_inputs_program(image_repository="platform/elsewhere"))


def test_task_policies_become_inline_policies_of_the_task_role_only(run_component: ComponentRunner) -> None:
    connect = {
        "Sid": "ConnectAsTheAppUser",
        "Effect": "Allow",
        "Action": "elasticache:Connect",
        "Resource": ["arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:g"],
    }
    resource_id = pulumi.Output.from_input("db-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    database = {
        "Sid": "ConnectToTheDatabase",
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": pulumi.Output.concat("arn:aws:rds-db:eu-west-1:123456789012:dbuser:", resource_id, "/app"),
    }
    run = _service(run_component, task_policies={"cache": [connect], "database": [database]})
    task_role = run.one("aws:iam/role:Role", "api-task-role")
    policies = {p.name: p for p in run.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert policies["api-task-cache"].inputs["role"] == task_role.id
    assert statements(policies["api-task-cache"].inputs["policy"]) == [connect]
    (rendered,) = statements(policies["api-task-database"].inputs["policy"])
    assert rendered["Resource"] == "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/app"
    execution_role = run.one("aws:iam/role:Role", "api-exec-role")
    assert not [
        p for p in policies.values() if p.inputs["role"] == execution_role.id and "Connect" in p.inputs["policy"]
    ]


def test_the_roles_are_exposed_for_what_must_wait_for_them(run_component: ComponentRunner) -> None:
    def program() -> None:
        service = FargateService("api", _args())
        execution, task = service.iam_roles
        pulumi.export("names", [execution._name, task._name])
        pulumi.export("arns", [service.execution_role_arn, service.task_role_arn])

    out = run_component(program).outputs
    assert out["names"] == ["api-exec-role", "api-task-role"]
    assert all(arn.startswith("arn:aws:iam::123456789012:role/") for arn in out["arns"])


@pytest.mark.parametrize(
    ("policies", "setting"),
    [
        ({"Cache": [{"Effect": "Allow", "Action": "x:Y", "Resource": "*"}]}, "task_policies"),
        ({"cache": []}, "task_policies[cache]"),
        ({"cache": [{"Effect": "Deny", "Action": "x:Y", "Resource": "*"}]}, "task_policies[cache][0]"),
        ({"cache": [{"Effect": "Allow", "Action": "x:Y"}]}, "task_policies[cache][0]"),
    ],
)
def test_task_policies_are_refused_unless_named_allow_statements(policies: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(task_policies=policies)
    assert error.value.setting == setting
