"""The ALB, the cluster and the two services in the whole program, for every committed stack file."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from platform_contracts.fargate_service import is_secret_name

from components.load_balancer import TLS13_POLICIES
from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from stack import exports
from tests.aws_validation import (
    register_task_definition_request,
    statements,
    validate_register_task_definition,
    wildcard_actions,
)
from tests.support import cached_run, unknown_paths

LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ALB = "platform:loadbalancer:LoadBalancer"
FARGATE = "platform:ecs:FargateService"
CACHE = "platform:cache:Cache"
DATABASE = "platform:database:Database"
NETWORK = "platform:network:Network"
NLB = "platform:nlb:NetworkLoadBalancer"


def _owner_type(run: StackRun, resource: CapturedResource) -> str:
    """Type of the top-level component a resource belongs to."""
    current = resource
    while current.parent and current.parent != run.stack_urn:
        current = run.by_urn(current.parent)
    return current.type


def _alb(run: StackRun) -> CapturedResource:
    """The ALB (prod also has the static-IP NLB in front of it)."""
    (alb,) = [lb for lb in run.of_type(LB) if lb.inputs["loadBalancerType"] == "application"]
    return alb


def _sg_owner(run: StackRun) -> dict[str, str]:
    return {sg.id: _owner_type(run, sg) for sg in run.of_type(SG)}


def _container(run: StackRun, task_definition: CapturedResource) -> dict[str, Any]:
    (container,) = json.loads(task_definition.inputs["containerDefinitions"])
    return container  # type: ignore[no-any-return]


def _app_services(run: StackRun) -> dict[str, CapturedResource]:
    return {s.inputs["name"]: s for s in run.of_type(SERVICE)}


def test_two_services_from_one_image_behind_one_alb(stack_run: StackRun) -> None:
    assert len([lb for lb in stack_run.of_type(LB) if lb.inputs["loadBalancerType"] == "application"]) == 1
    services = _app_services(stack_run)
    assert set(services) == {"api", "ops"}
    groups = {tg.id: tg for tg in stack_run.of_type(TG) if _owner_type(stack_run, tg) == ALB}
    assert len(groups) == 2
    attached = {name: s.inputs["loadBalancers"][0]["targetGroupArn"] for name, s in services.items()}
    assert set(attached.values()) == set(groups), "each service has its own target group"
    definitions = {td.id: td for td in stack_run.of_type(TASK_DEFINITION)}
    images = set()
    for name, service in services.items():
        td = next(t for t in definitions.values() if t.outputs["arn"] == service.inputs["taskDefinition"])
        container = _container(stack_run, td)
        env = {e["name"]: e["value"] for e in container["environment"]}
        assert env["SERVICE_ROLE"] == name
        assert env["RUN_MIGRATIONS"] == ("true" if name == "api" else "false")
        assert env["PORT"] == "8080"
        assert env["APP_ENV"] == stack_run.stack
        images.add(container["image"])
    (image,) = images
    assert "@sha256:" in image, "services run the digest-pinned image, never a tag"


def test_routing_each_service_gets_its_path(stack_run: StackRun) -> None:
    groups = {tg.id: tg.name for tg in stack_run.of_type(TG)}
    routes = {}
    for rule in stack_run.of_type(RULE):
        conditions = {k: v["values"] for c in rule.inputs["conditions"] for k, v in c.items()}
        routes[groups[rule.inputs["actions"][0]["targetGroupArn"]]] = conditions
    api = next(v for k, v in routes.items() if k.endswith("-api"))
    ops = next(v for k, v in routes.items() if k.endswith("-ops"))
    assert api["pathPattern"] == ["/api/*"]
    assert ops["pathPattern"] == ["/ops/*"]
    if stack_run.stack == "prod":
        # Each service's own host, and the static-IP NLB's name (which reaches the same ALB rules).
        assert api["hostHeader"] == ["api.catalog.example.com", "static.catalog.example.com"]
        assert ops["hostHeader"] == ["ops.catalog.example.com", "static.catalog.example.com"]
    else:
        assert "hostHeader" not in api
        assert "hostHeader" not in ops


def test_every_target_group_has_an_explicit_health_check(stack_run: StackRun) -> None:
    for tg in stack_run.of_type(TG):
        hc = tg.inputs.get("healthCheck")
        assert hc, f"{tg.name} has no explicit health check"
        assert hc["enabled"] is True
        for key in ("interval", "timeout", "healthyThreshold", "unhealthyThreshold"):
            assert key in hc, f"{tg.name}: {key} left to AWS's default"
        assert hc["timeout"] < hc["interval"]
        if hc.get("protocol", "HTTP").startswith("HTTP"):
            assert hc["path"].startswith("/")
            assert hc["matcher"]
    paths = {tg.name.rsplit("-", 1)[-1]: tg.inputs["healthCheck"]["path"]
             for tg in stack_run.of_type(TG) if _owner_type(stack_run, tg) == ALB}  # fmt: skip
    assert paths == {"api": "/readyz", "ops": "/healthz"}


def test_rule_priorities_are_unique_per_listener(stack_run: StackRun) -> None:
    per_listener = Counter((r.inputs["listenerArn"], r.inputs["priority"]) for r in stack_run.of_type(RULE))
    assert per_listener, "there are routing rules"
    assert max(per_listener.values()) == 1


def test_services_wait_for_their_listener_rules(stack_run: StackRun) -> None:
    rules = {r.urn for r in stack_run.of_type(RULE)}
    for service in stack_run.of_type(SERVICE):
        depends = set(service.property_dependencies.get("loadBalancers", []))
        assert depends & rules, f"{service.name} could be created before a rule uses its target group"


def test_container_definitions_are_valid_register_task_definition_requests(stack_run: StackRun) -> None:
    for td in stack_run.of_type(TASK_DEFINITION):
        request = register_task_definition_request(td)
        assert validate_register_task_definition(request) == [], td.name
        container = _container(stack_run, td)
        assert container["healthCheck"]["command"][0] in ("CMD", "CMD-SHELL")
        assert "/healthz" in " ".join(container["healthCheck"]["command"])
        assert container["readonlyRootFilesystem"] is True
        assert container["privileged"] is False
        assert container["user"].split(":")[0] not in ("0", "root")


def test_secrets_come_from_secrets_manager_never_plain_environment(stack_run: StackRun) -> None:
    """The master password goes to the migrations only (the API tasks); the app logs in with IAM."""
    db_secret = stack_run.outputs[exports.DATABASE_SECRET_ARN]
    for td in stack_run.of_type(TASK_DEFINITION):
        container = _container(stack_run, td)
        secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        environment = {e["name"]: e["value"] for e in container["environment"]}
        if environment["RUN_MIGRATIONS"] == "true":
            assert secrets == {"DATABASE_PASSWORD": f"{db_secret}:password::"}
        else:
            assert secrets == {}, f"{td.name}: the ops tasks need no password with IAM authentication"
        assert (environment["DATABASE_AUTH"], environment["REDIS_AUTH"]) == ("iam", "iam")
        for name in environment:
            assert not is_secret_name(name), name


def test_task_roles_have_no_wildcard_actions(stack_run: StackRun) -> None:
    roles = {r.outputs["arn"]: r for r in stack_run.of_type("aws:iam/role:Role")}
    policies = stack_run.of_type("aws:iam/rolePolicy:RolePolicy")
    for td in stack_run.of_type(TASK_DEFINITION):
        task_role = roles[td.inputs["taskRoleArn"]]
        execution_role = roles[td.inputs["executionRoleArn"]]
        assert task_role.urn != execution_role.urn
        for role in (task_role, execution_role):
            for policy in (p for p in policies if p.inputs["role"] == role.id):
                assert wildcard_actions(policy.inputs["policy"]) == [], policy.name


def test_execution_roles_read_exactly_the_injected_secrets(stack_run: StackRun) -> None:
    policies = stack_run.of_type("aws:iam/rolePolicy:RolePolicy")
    reads = {p.name: s for p in policies for s in statements(p.inputs["policy"])
             if s.get("Action") == "secretsmanager:GetSecretValue"}  # fmt: skip
    # Only the API's execution role (the migrations' password): no secret is read anywhere else.
    assert list(reads) == [f"{stack_run.stack}-api-exec-secrets"]
    assert reads[f"{stack_run.stack}-api-exec-secrets"]["Resource"] == [stack_run.outputs[exports.DATABASE_SECRET_ARN]]


def test_security_group_graph_is_alb_to_tasks_to_data_stores(stack_run: StackRun) -> None:
    owner = _sg_owner(stack_run)
    edges = set()
    for rule in stack_run.of_type(INGRESS):
        target = owner.get(rule.inputs["securityGroupId"], "external")
        if rule.inputs.get("referencedSecurityGroupId"):
            edges.add(
                (owner.get(rule.inputs["referencedSecurityGroupId"], "external"), target, rule.inputs["fromPort"])
            )
        elif target in (FARGATE, CACHE, DATABASE):
            raise AssertionError(f"{rule.name}: {target} admits an address range, not a security group")
    ours = {e for e in edges if e[1] in (ALB, FARGATE, CACHE, DATABASE)}
    # the static-IP NLB (nlbEnabled) is the ALB's only other client
    front = {(NLB, ALB)} if stack_run.of_type(NLB) else set()
    assert {(src, dst) for src, dst, _ in ours} == {(ALB, FARGATE), (FARGATE, CACHE), (FARGATE, DATABASE)} | front
    assert {port for src, dst, port in ours if dst == FARGATE} == {8080}
    # the only address-range ingress on the ALB is its listener ports
    alb_cidr_ports = {
        r.inputs["fromPort"]
        for r in stack_run.of_type(INGRESS)
        if owner.get(r.inputs["securityGroupId"]) == ALB and not r.inputs.get("referencedSecurityGroupId")
    }
    assert alb_cidr_ports == ({80, 443} if stack_run.stack == "prod" else {80})
    # the ALB's only egress is to the tasks, on the container port
    for rule in stack_run.of_type(EGRESS):
        if owner.get(rule.inputs["securityGroupId"]) == ALB:
            assert owner.get(rule.inputs["referencedSecurityGroupId"]) == FARGATE
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 8080


def test_task_egress_goes_to_dependencies_and_aws_apis_only(stack_run: StackRun) -> None:
    owner = _sg_owner(stack_run)
    for rule in stack_run.of_type(EGRESS):
        if owner.get(rule.inputs["securityGroupId"]) != FARGATE:
            continue
        referenced = rule.inputs.get("referencedSecurityGroupId")
        if referenced:
            assert owner.get(referenced) in (CACHE, DATABASE, NETWORK), rule.name
        else:
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 443, rule.name


def test_services_run_privately_with_safe_deployments(stack_run: StackRun) -> None:
    private = set(stack_run.outputs[exports.PRIVATE_SUBNET_IDS])
    for service in stack_run.of_type(SERVICE):
        inputs = service.inputs
        assert set(inputs["networkConfiguration"]["subnets"]) == private
        assert inputs["networkConfiguration"]["assignPublicIp"] is False
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert inputs["healthCheckGracePeriodSeconds"] > 0
        assert inputs["enableExecuteCommand"] is True
        assert inputs["propagateTags"] == "SERVICE"
        assert inputs["serviceRegistries"]["registryArn"].startswith("arn:aws:servicediscovery:")


def test_autoscaling_per_service(stack_run: StackRun) -> None:
    targets = {t.inputs["resourceId"]: t.inputs for t in stack_run.of_type("aws:appautoscaling/target:Target")}
    cluster = stack_run.outputs[exports.ECS_CLUSTER_NAME]
    assert set(targets) == {f"service/{cluster}/api", f"service/{cluster}/ops"}
    policies = stack_run.of_type("aws:appautoscaling/policy:Policy")
    metrics = Counter(
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]
        for p in policies
    )
    assert metrics == {
        "ECSServiceAverageCPUUtilization": 2,
        "ECSServiceAverageMemoryUtilization": 2,
        "ALBRequestCountPerTarget": 2,
    }


def test_dev_is_http_spot_and_small_prod_is_https_on_demand_and_larger() -> None:
    dev, prod = cached_run("dev"), cached_run("prod")
    assert "HTTP only" in dev.outputs[exports.ALB_LISTENER_MODE]
    assert prod.outputs[exports.ALB_LISTENER_MODE].startswith("HTTPS :443")
    alb_listeners = [listener for listener in prod.of_type(LISTENER) if _owner_type(prod, listener) == ALB]
    https = next(listener for listener in alb_listeners if listener.inputs["port"] == 443)
    assert https.inputs["sslPolicy"] in TLS13_POLICIES
    http = next(listener for listener in alb_listeners if listener.inputs["port"] == 80)
    assert http.inputs["defaultActions"][0]["redirect"]["protocol"] == "HTTPS"
    assert _alb(prod).inputs["enableDeletionProtection"] is True
    assert _alb(dev).inputs["enableDeletionProtection"] is False
    assert prod.outputs[exports.SERVICE_URLS]["api"] == "https://api.catalog.example.com/api/"

    def insights(run: StackRun) -> str:
        return str(run.one("aws:ecs/cluster:Cluster").inputs["settings"][0]["value"])

    assert (insights(dev), insights(prod)) == ("enabled", "enhanced")
    dev_api, prod_api = _app_services(dev)["api"].inputs, _app_services(prod)["api"].inputs
    assert [s["capacityProvider"] for s in dev_api["capacityProviderStrategies"]] == ["FARGATE_SPOT"]
    assert [s["capacityProvider"] for s in prod_api["capacityProviderStrategies"]] == ["FARGATE"]
    assert prod_api["desiredCount"] >= 3


def test_checked_properties_are_known_at_preview() -> None:
    run = cached_run("prod", preview=True)
    lb = _alb(run).inputs
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["enableDeletionProtection"] is True
    assert lb["accessLogs"]["enabled"] is True
    for tg in run.of_type(TG):
        assert tg.inputs["healthCheck"]["path"]
    for service in run.of_type(SERVICE):
        assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert service.inputs["networkConfiguration"]["assignPublicIp"] is False
    for td in run.of_type(TASK_DEFINITION):
        # composed from explicit role names, so "task role != execution role" is decidable at preview
        assert td.inputs["taskRoleArn"] != td.inputs["executionRoleArn"]
        assert td.inputs["taskRoleArn"].startswith("arn:aws:iam::")
    for service in run.of_type(FARGATE):
        # The image digest is unknown until `up`: the containers are checked on the declared spec.
        assert unknown_paths(service.wire_inputs) == []
        spec = service.inputs["containerSpec"]
        assert spec["imageRepository"].endswith("/app")
        assert {e["name"] for e in spec["environment"] if e["value"] == "<computed>"} >= {"DATABASE_HOST"}
    task_policies = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-task-exec")]
    assert len(task_policies) == 2
    for policy in task_policies:
        assert wildcard_actions(policy.inputs["policy"]) == []
