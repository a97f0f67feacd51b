"""The ALB alone: listeners per certificate, target groups and their health checks, rules, access logs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.load_balancer import (
    DEFAULT_TLS_POLICY,
    TLS13_POLICIES,
    HealthCheck,
    LoadBalancer,
    LoadBalancerArgs,
    LoadBalancerSpec,
    RoutingRule,
    TargetGroupSpec,
    allocate_priorities,
)
from mockcloud.runner import StackRun
from stack.settings import LOAD_BALANCER
from tests.support import ComponentRunner, config_defaults

CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"

TARGET_GROUPS = (
    TargetGroupSpec(key="api", health_check=HealthCheck(path="/readyz", unhealthy_threshold=10)),
    TargetGroupSpec(key="ops", health_check=HealthCheck(path="/healthz")),
)
RULES = (
    RoutingRule(name="api", target="api", path_patterns=["/api/*"]),
    RoutingRule(name="ops", target="ops", path_patterns=["/ops/*"]),
)


SPEC_FIELDS = {f.name for f in dataclasses.fields(LoadBalancerSpec)}


def _args(**overrides: Any) -> LoadBalancerArgs:
    """Args at Pulumi.yaml's defaults (no deletion protection, access logs on); overrides by field name."""
    spec = {**config_defaults(LOAD_BALANCER, LoadBalancerSpec), "access_log_expiration_days": 90}
    spec |= {k: v for k, v in overrides.items() if k in SPEC_FIELDS}
    values: dict[str, Any] = {
        "context": CONTEXT,
        "vpc_id": "vpc-0123456789abcdef0",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "target_groups": TARGET_GROUPS,
        "rules": RULES,
        **{k: v for k, v in overrides.items() if k not in SPEC_FIELDS},
    }
    return LoadBalancerArgs(**values, spec=LoadBalancerSpec(**spec))


def _alb(run_component: ComponentRunner, *, preview: bool = False, **overrides: Any) -> StackRun:
    return run_component(lambda: LoadBalancer("web", _args(**overrides)), preview=preview)


def test_without_certificate_http_forwards_and_says_so(run_component: ComponentRunner) -> None:
    run = _alb(run_component, certificate_arn=None)
    listeners = run.of_type(LISTENER)
    assert [listener.inputs["port"] for listener in listeners] == [80]
    http = listeners[0]
    assert http.inputs["protocol"] == "HTTP"
    default = http.inputs["defaultActions"][0]
    assert default["type"] == "fixed-response"
    assert default["fixedResponse"]["statusCode"] == "404"
    assert default["fixedResponse"]["contentType"] == "application/json"
    assert json.loads(default["fixedResponse"]["messageBody"])["error"] == "not_found"
    assert all(r.inputs["listenerArn"] == http.id for r in run.of_type(RULE))
    # only the listener port is opened
    assert {r.inputs["fromPort"] for r in run.of_type(INGRESS)} == {80}


def test_listener_mode_is_stated_for_the_plan(run_component: ComponentRunner) -> None:
    captured: dict[str, LoadBalancer] = {}

    def program() -> None:
        captured["plain"] = LoadBalancer("plain", _args())
        captured["tls"] = LoadBalancer("tls", _args(certificate_arn=CERT))

    run_component(program)
    assert captured["plain"].https is False
    assert "HTTP only" in captured["plain"].listener_mode
    assert "NOT encrypted" in captured["plain"].listener_mode
    assert captured["tls"].https is True
    assert captured["tls"].listener_mode.startswith("HTTPS :443")


def test_the_certificate_may_be_an_output_and_the_https_listener_waits_for_it(run_component: ComponentRunner) -> None:
    """An Output (a CertificateValidation's ``certificate_arn``) is taken as is: its pattern is ACM's to
    judge when the listener is created, and the listener depends on the resource it comes from."""

    def program() -> None:
        issued = aws.acm.CertificateValidation("issued", certificate_arn=CERT)
        LoadBalancer("web", _args(certificate_arn=issued.certificate_arn))

    for preview in (False, True):
        run = run_component(program, preview=preview)
        validation = run.one("aws:acm/certificateValidation:CertificateValidation")
        https = next(listener for listener in run.of_type(LISTENER) if listener.inputs["port"] == 443)
        assert https.property_dependencies["certificateArn"] == [validation.urn]
        if not preview:
            assert https.inputs["certificateArn"] == CERT
    with pytest.raises(InputError, match="an ACM certificate ARN"):
        _args(certificate_arn="arn:aws:iam::123456789012:server-certificate/legacy")


def test_with_certificate_https_tls13_and_http_redirects(run_component: ComponentRunner) -> None:
    run = _alb(run_component, certificate_arn=CERT)
    by_port = {listener.inputs["port"]: listener for listener in run.of_type(LISTENER)}
    https, http = by_port[443], by_port[80]
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["certificateArn"] == CERT
    assert https.inputs["sslPolicy"] == DEFAULT_TLS_POLICY
    assert https.inputs["sslPolicy"] in TLS13_POLICIES
    assert "TLS13" in https.inputs["sslPolicy"]
    assert https.inputs["routingHttpResponseStrictTransportSecurityHeaderValue"].startswith("max-age=31536000")
    redirect = http.inputs["defaultActions"][0]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}
    assert all(r.inputs["listenerArn"] == https.id for r in run.of_type(RULE))
    assert {r.inputs["fromPort"] for r in run.of_type(INGRESS)} == {80, 443}


def test_security_group_admits_only_configured_cidrs_and_has_no_egress(run_component: ComponentRunner) -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"]
    run = _alb(run_component, certificate_arn=CERT, ingress_cidrs=cidrs)
    sg = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    rules = run.of_type(INGRESS)
    assert len(rules) == 2 * len(cidrs)
    for rule in rules:
        assert rule.inputs["securityGroupId"] == sg.id
        assert rule.inputs["fromPort"] == rule.inputs["toPort"] in (80, 443)
        assert rule.inputs.get("cidrIpv4", rule.inputs.get("cidrIpv6")) in cidrs
        assert rule.inputs["description"]
    # the ALB creates no egress: each service adds egress to its own tasks
    assert run.of_type(EGRESS) == []
    assert run.of_type("aws:ec2/securityGroupRule:SecurityGroupRule") == []


def test_load_balancer_attributes(run_component: ComponentRunner) -> None:
    run = _alb(run_component, deletion_protection=True)
    lb = run.one(LB).inputs
    assert lb["loadBalancerType"] == "application"
    assert lb["internal"] is False
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["enableDeletionProtection"] is True
    assert lb["idleTimeout"] == 60
    assert lb["subnets"] == ["subnet-a", "subnet-b"]
    assert not _alb(run_component).one(LB).inputs["enableDeletionProtection"]


def test_outputs_are_realistic(run_component: ComponentRunner) -> None:
    run = _alb(run_component)
    lb = run.one(LB)
    assert lb.id.startswith("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/")
    assert lb.outputs["arnSuffix"].startswith("app/")
    assert lb.outputs["dnsName"].endswith(".eu-west-1.elb.amazonaws.com")
    for tg in run.of_type(TG):
        assert tg.outputs["arnSuffix"].startswith("targetgroup/")


def test_every_target_group_has_an_explicit_health_check_within_aws_ranges(run_component: ComponentRunner) -> None:
    run = _alb(run_component)
    groups = run.of_type(TG)
    assert len(groups) == 2
    for tg in groups:
        inputs = tg.inputs
        assert inputs["targetType"] == "ip"
        assert inputs["protocol"] == "HTTP"
        assert inputs["port"] == 8080
        assert inputs["deregistrationDelay"] == 30
        hc = inputs["healthCheck"]
        assert hc["enabled"] is True
        assert hc["path"].startswith("/")
        assert hc["matcher"] == "200"
        assert 5 <= hc["interval"] <= 300
        assert 2 <= hc["timeout"] <= 120
        assert hc["timeout"] < hc["interval"]
        assert 2 <= hc["healthyThreshold"] <= 10
        assert 2 <= hc["unhealthyThreshold"] <= 10
    paths = {tg.name: tg.inputs["healthCheck"]["path"] for tg in groups}
    assert paths == {"web-api": "/readyz", "web-ops": "/healthz"}


def test_rules_route_by_path_host_and_source(run_component: ComponentRunner) -> None:
    rules = (
        RoutingRule(name="api", target="api", path_patterns=["/api/*"], host_headers=["api.example.com"]),
        RoutingRule(name="ops", target="ops", host_headers=["ops.example.com"], source_cidrs=["10.1.0.0/16"]),
    )
    run = _alb(run_component, rules=rules)
    tgs = {tg.name: tg.id for tg in run.of_type(TG)}
    by_name = {r.name: r.inputs for r in run.of_type(RULE)}
    api, ops = by_name["web-rule-api"], by_name["web-rule-ops"]
    assert api["conditions"] == [
        {"hostHeader": {"values": ["api.example.com"]}},
        {"pathPattern": {"values": ["/api/*"]}},
    ]
    assert api["actions"] == [{"type": "forward", "targetGroupArn": tgs["web-api"]}]
    assert ops["conditions"] == [
        {"hostHeader": {"values": ["ops.example.com"]}},
        {"sourceIp": {"values": ["10.1.0.0/16"]}},
    ]
    assert ops["actions"][0]["targetGroupArn"] == tgs["web-ops"]


def test_rule_priorities_unique_and_deterministic(run_component: ComponentRunner) -> None:
    rules = (
        RoutingRule(name="a", target="api", path_patterns=["/a/*"]),
        RoutingRule(name="b", target="api", path_patterns=["/b/*"], priority=110),
        RoutingRule(name="c", target="ops", path_patterns=["/c/*"]),
        RoutingRule(name="d", target="ops", path_patterns=["/d/*"]),
    )
    first = {r.name: r.inputs["priority"] for r in _alb(run_component, rules=rules).of_type(RULE)}
    second = {r.name: r.inputs["priority"] for r in _alb(run_component, rules=rules).of_type(RULE)}
    assert first == second
    assert len(set(first.values())) == len(first)
    assert first == {"web-rule-a": 100, "web-rule-b": 110, "web-rule-c": 120, "web-rule-d": 130}
    assert allocate_priorities(rules, first=1000) == {"a": 1000, "b": 110, "c": 1010, "d": 1020}


def test_duplicate_explicit_priorities_are_rejected() -> None:
    rules = (
        RoutingRule(name="a", target="api", path_patterns=["/a/*"], priority=5),
        RoutingRule(name="b", target="ops", path_patterns=["/b/*"], priority=5),
    )
    with pytest.raises(
        InputError,
        match=r"'rule\[b\]\.priority' = 5 is not valid; allowed: a priority no other rule of the listener has "
        r"\(rule\[a\] has it\)",
    ):
        _args(rules=rules)


def test_target_group_arns_wait_for_the_rules(run_component: ComponentRunner) -> None:
    """ECS refuses a target group no listener routes to, so consumers must depend on the rules."""
    import pulumi_aws as aws

    def program() -> None:
        alb = LoadBalancer("web", _args())
        aws.ssm.Parameter("consumer", type="String", value="x", description=alb.target_group_arns["api"])

    run = run_component(program)
    consumer = run.one("aws:ssm/parameter:Parameter")
    rule = next(r for r in run.of_type(RULE) if r.name == "web-rule-api")
    tg = next(t for t in run.of_type(TG) if t.name == "web-api")
    assert rule.urn in consumer.property_dependencies["description"]
    assert consumer.inputs["description"] == tg.id


def test_access_logs_bucket_policy_encryption_lifecycle(run_component: ComponentRunner) -> None:
    run = _alb(run_component, access_log_expiration_days=365)
    bucket = run.one("aws:s3/bucket:Bucket")
    name = bucket.inputs["bucket"]
    assert name == "web-access-logs-123456789012-eu-west-1"
    lb = run.one(LB)
    assert lb.inputs["accessLogs"] == {"bucket": name, "prefix": "alb", "enabled": True}
    policy_resource = run.one("aws:s3/bucketPolicy:BucketPolicy")
    assert policy_resource.urn in lb.dependencies, "ELB validates bucket access when logs are enabled"
    policy = json.loads(policy_resource.inputs["policy"])
    allow = next(s for s in policy["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == f"arn:aws:s3:::{name}/alb/AWSLogs/123456789012/*"
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))  # fmt: skip
    sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    ownership = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    expire, abort = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert expire["status"] == "Enabled"
    assert expire["expiration"]["days"] == 365
    assert expire["filter"]["prefix"] == "alb/"
    # Incomplete multipart uploads are aborted anywhere in the bucket (an empty filter), not only under
    # the log prefix (checkov CKV_AWS_300 counts only a rule without a filter).
    assert abort["status"] == "Enabled"
    assert abort["filter"] == {}
    assert abort["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_access_logs_can_be_off(run_component: ComponentRunner) -> None:
    run = _alb(run_component, access_logs=False)
    assert run.of_type("aws:s3/bucket:Bucket") == []
    assert "accessLogs" not in run.one(LB).inputs


def test_checked_properties_are_known_at_preview(run_component: ComponentRunner) -> None:
    run = _alb(run_component, preview=True, certificate_arn=CERT)
    lb = run.one(LB).inputs
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["accessLogs"]["bucket"]
    for tg in run.of_type(TG):
        assert tg.inputs["healthCheck"]["path"]
    https = next(listener for listener in run.of_type(LISTENER) if listener.inputs["port"] == 443)
    assert https.inputs["sslPolicy"] in TLS13_POLICIES
    policy = run.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    assert json.loads(policy)["Statement"]


def test_children_are_parented_and_prefixed(run_component: ComponentRunner) -> None:
    run = _alb(run_component, certificate_arn=CERT)
    component = run.one("platform:loadbalancer:LoadBalancer")
    for r in run.resources:
        if r.custom:
            assert r.parent == component.urn
            assert r.name.startswith("web-")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"interval_seconds": 4},
            r"'health_check.interval_seconds' = 4 is not valid; allowed: a whole number from 5 to 300",
        ),
        ({"interval_seconds": 301}, r"interval_seconds' = 301 .* 5 to 300"),
        ({"timeout_seconds": 1}, r"timeout_seconds' = 1 .* 2 to 120"),
        (
            {"interval_seconds": 10, "timeout_seconds": 10},
            r"timeout_seconds' = 10 .* less than interval_seconds \(10\)",
        ),
        ({"healthy_threshold": 1}, r"healthy_threshold' = 1 .* 2 to 10"),
        ({"unhealthy_threshold": 11}, r"unhealthy_threshold' = 11 .* 2 to 10"),
        ({"matcher": "500"}, r"'health_check.matcher' = '500' is not valid; allowed: codes .* each from 200 to 499"),
        ({"matcher": "199-204"}, r"each from 200 to 499"),
        ({"matcher": "ok"}, r"'health_check.matcher' = 'ok' is not valid"),
        ({"path": "healthz"}, r"'health_check.path' = 'healthz'"),
    ],
)
def test_health_check_ranges_are_enforced(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        HealthCheck(**{"path": "/readyz", **kwargs})


def test_matcher_accepts_lists_and_ranges() -> None:
    HealthCheck(path="/", matcher="200,204")
    HealthCheck(path="/", matcher="200-299")
    HealthCheck(path="/", matcher="200-499")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"idle_timeout_seconds": 75},
            r"'idle_timeout_seconds' = 75 is not valid; allowed: less than the app's keep-alive",
        ),
        ({"ssl_policy": "ELBSecurityPolicy-2016-08"}, r"'ssl_policy' = 'ELBSecurityPolicy-2016-08' .* one of .*TLS13"),
        ({"certificate_arn": "not-an-arn"}, r"'certificate_arn' = 'not-an-arn' .* an ACM certificate ARN"),
        ({"subnet_ids": ["subnet-a"]}, r"'subnet_ids' = '1 subnets'"),
        ({"ingress_cidrs": ["10.0.0.0/33"]}, r"'ingress_cidrs' = \['10.0.0.0/33'\] .* \(bad: 10.0.0.0/33\)"),
        ({"ingress_cidrs": []}, r"at least one CIDR"),
        ({"access_log_expiration_days": 0}, r"'access_log_expiration_days' = 0 is not valid"),
        (
            {"rules": (RoutingRule(name="x", target="nope", path_patterns=["/x"]),)},
            r"'rule\[x\]\.target' = 'nope' is not valid; allowed: one of api, ops",
        ),
        ({"rules": RULES[:1]}, r"'target_groups' = \['ops'\] is not valid; allowed: target groups some rule routes to"),
        ({"target_groups": (*TARGET_GROUPS, TARGET_GROUPS[0])}, r"distinct keys"),
    ],
)
def test_args_reject_bad_values(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"allowed: at least one path pattern, host header or source CIDR"),
        ({"path_patterns": ["api/*"]}, r"'rule\[r\].path_patterns' = 'api/\*'"),
        ({"host_headers": ["bad host"]}, r"'rule\[r\].host_headers' = 'bad host'"),
        ({"path_patterns": ["/1", "/2", "/3"], "host_headers": ["a.b", "c.d", "e.f"]}, r"conditions' = 6 is not valid"),
        ({"path_patterns": ["/x"], "priority": 50_001}, r"priority' = 50001 .* 1 to 50000"),
        ({"path_patterns": ["/x"], "source_cidrs": ["office"]}, r"\(bad: office\)"),
    ],
)
def test_rules_reject_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        RoutingRule(name="r", target="api", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deregistration_delay_seconds": 3601}, r"deregistration_delay_seconds' = 3601 .* 0 to 3600"),
        ({"slow_start_seconds": 10}, r"slow_start_seconds' = 10 is not valid; allowed: 0 \(off\) or 30-900"),
        ({"algorithm": "least_outstanding_requests", "slow_start_seconds": 30}, r"AWS rejects the combination"),
        ({"key": "API"}, r"'target_group.key' = 'API'"),
    ],
)
def test_target_groups_reject_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        TargetGroupSpec(**{"key": "api", "health_check": HealthCheck(path="/"), **kwargs})
