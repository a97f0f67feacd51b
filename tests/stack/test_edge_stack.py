"""The edge in the whole program, for every committed stack file: the certificate, its validation records
and the validation, the alias records, the web ACL with its association and logging, the alarms, the
deployment alarms on every service, the dashboard and the ECR creation templates.

Requests are checked against botocore's models (RequestCertificate, CreateWebACL,
PutLoggingConfiguration, PutMetricAlarm, CreateService's deploymentConfiguration,
CreateRepositoryCreationTemplate, ChangeResourceRecordSets).
"""

from __future__ import annotations

import json

from components.web_acl import COMMON_RULE_SET, IP_REPUTATION, KNOWN_BAD_INPUTS, REDACTED_HEADERS
from mockcloud.monitor import CapturedResource
from mockcloud.providers.aws.route53 import ZONES
from mockcloud.runner import PROJECT_DIR, StackRun
from stack import exports
from tests.aws_validation import (
    create_repository_creation_template_request,
    create_service_request,
    create_web_acl_request,
    put_logging_configuration_request,
    put_metric_alarm_request,
    request_certificate_request,
    validate_request,
)
from tests.support import STACKS, cached_run

CERT = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
LISTENER = "aws:lb/listener:Listener"
LB = "aws:lb/loadBalancer:LoadBalancer"
ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
SERVICE = "aws:ecs/service:Service"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REPOSITORY = "aws:ecr/repository:Repository"
KEY = "aws:kms/key:Key"
EXAMPLE_ZONE = next(zone_id for zone_id, (name, _) in ZONES.items() if name == "example.com")
ROLLBACK = ("target-5xx", "latency-p99", "unhealthy-hosts")


def _balancer(run: StackRun, kind: str) -> CapturedResource:
    (lb,) = [lb for lb in run.of_type(LB) if lb.inputs["loadBalancerType"] == kind]
    return lb


def _https_listener(run: StackRun) -> CapturedResource:
    return run.one(LISTENER, f"{run.stack}-alb-https")


def _edge_alarms(run: StackRun) -> dict[str, CapturedResource]:
    """The EdgeAlarms component's alarms by alarm name (the cache and the database have their own)."""
    return {a.inputs["name"]: a for a in run.of_type(ALARM) if a.name.startswith(f"{run.stack}-alarms-")}


# -- certificate and DNS ---------------------------------------------------------------------------
def test_prod_requests_its_certificate_in_the_zone_and_validates_it_by_dns() -> None:
    run = cached_run("prod")
    cert = run.one(CERT)
    assert cert.inputs["domainName"] == "api.catalog.example.com"
    assert cert.inputs["subjectAlternativeNames"] == ["ops.catalog.example.com", "static.catalog.example.com"]
    assert cert.inputs["validationMethod"] == "DNS"
    assert validate_request("acm", "RequestCertificate", request_certificate_request(cert)) == []
    options = {o["domainName"]: o for o in cert.outputs["domainValidationOptions"]}
    records = [r for r in run.of_type(RECORD) if r.inputs["type"] == "CNAME"]
    assert len(records) == 3, "one validation record per name (no wildcard shares one here)"
    for record in records:
        assert record.inputs["zoneId"] == EXAMPLE_ZONE
        option = next(o for o in options.values() if o["resourceRecordName"] == record.inputs["name"])
        assert record.inputs["records"] == [option["resourceRecordValue"]]
        assert record.inputs["allowOverwrite"] is True
    validation = run.one(VALIDATION)
    assert validation.inputs["certificateArn"] == cert.outputs["arn"]
    assert set(validation.property_dependencies["validationRecordFqdns"]) == {r.urn for r in records}


def test_the_https_listener_depends_on_the_validated_certificate_not_a_pasted_string() -> None:
    for preview in (False, True):
        run = cached_run("prod", preview=preview)
        listener, validation = _https_listener(run), run.one(VALIDATION)
        # The listener's certificate is the validation's output: created only once ACM has issued it.
        assert validation.urn in listener.property_dependencies["certificateArn"]
        assert run.one(CERT).urn not in listener.property_dependencies["certificateArn"]
        if not preview:
            assert listener.inputs["certificateArn"] == validation.outputs["certificateArn"]
            assert run.outputs[exports.CERTIFICATE_ARN] == listener.inputs["certificateArn"]
    # Prod's stack file pastes no certificate ARN: the key keeps Pulumi.yaml's empty default.
    assert cached_run("prod").config.values["container-platform:certificateArn"] == ""
    assert "certificateArn" not in (PROJECT_DIR / "Pulumi.prod.yaml").read_text()


def test_alias_records_point_the_service_hosts_at_the_alb_and_the_static_ip_name_at_the_nlb() -> None:
    run = cached_run("prod")
    alb, nlb = _balancer(run, "application"), _balancer(run, "network")
    aliases = {r.inputs["name"]: r for r in run.of_type(RECORD) if r.inputs.get("aliases")}
    assert set(aliases) == {"api.catalog.example.com", "ops.catalog.example.com", "static.catalog.example.com"}
    for name, record in aliases.items():
        target = nlb if name.startswith("static.") else alb
        assert record.inputs["type"] == "A"  # both load balancers are IPv4-only: no AAAA
        assert record.inputs["zoneId"] == EXAMPLE_ZONE
        (alias,) = record.inputs["aliases"]
        assert (alias["name"], alias["zoneId"]) == (target.outputs["dnsName"], target.outputs["zoneId"])
        assert alias["evaluateTargetHealth"] is True
        change = {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "A", "AliasTarget": {
            "HostedZoneId": alias["zoneId"], "DNSName": alias["name"], "EvaluateTargetHealth": True}}}  # fmt: skip
        assert validate_request("route53", "ChangeResourceRecordSets",
                                {"HostedZoneId": EXAMPLE_ZONE, "ChangeBatch": {"Changes": [change]}}) == []  # fmt: skip
    assert run.outputs[exports.SERVICE_HOST_NAMES] == {
        "api": "api.catalog.example.com",
        "ops": "ops.catalog.example.com",
        "static-ip": "static.catalog.example.com",
    }
    assert run.outputs[exports.SERVICE_URLS]["api"] == "https://api.catalog.example.com/api/"


def test_dev_has_no_domain_so_no_certificate_and_no_records() -> None:
    run = cached_run("dev")
    assert run.of_type(CERT) == run.of_type(VALIDATION) == run.of_type(RECORD) == []
    assert "HTTP only" in run.outputs[exports.ALB_LISTENER_MODE]
    assert run.outputs[exports.CERTIFICATE_ARN] is None
    assert run.outputs[exports.SERVICE_HOST_NAMES] is None


# -- WAF ----------------------------------------------------------------------------------------------
def test_a_web_acl_protects_the_alb_counting_in_dev_and_blocking_in_prod(stack_run: StackRun) -> None:
    acl = stack_run.one(ACL)
    request = create_web_acl_request(acl)
    assert validate_request("wafv2", "CreateWebACL", request) == []
    assert request["Name"] == f"container-platform-{stack_run.stack}"
    assert request["Scope"] == "REGIONAL"
    assert request["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in request["Rules"]}
    groups = [r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in request["Rules"]
              if "ManagedRuleGroupStatement" in r["Statement"]]  # fmt: skip
    assert groups == [IP_REPUTATION, KNOWN_BAD_INPUTS, COMMON_RULE_SET]
    rate = rules["rate-limit-per-ip"]["Statement"]["RateBasedStatement"]
    assert (rate["Limit"], rate["AggregateKeyType"], rate["EvaluationWindowSec"]) == (2000, "IP", 300)
    assert all(r["VisibilityConfig"]["CloudWatchMetricsEnabled"] for r in request["Rules"])
    managed = rules["aws-common-rule-set"]["OverrideAction"]
    if stack_run.stack == "dev":
        assert managed == {"Count": {}}
        assert rules["rate-limit-per-ip"]["Action"] == {"Count": {}}
    else:
        assert managed == {"None": {}}
        assert rules["rate-limit-per-ip"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    association = stack_run.one(ASSOCIATION)
    alb = _balancer(stack_run, "application")
    assert association.inputs["resourceArn"] == alb.outputs["arn"]
    assert alb.urn in association.property_dependencies["resourceArn"]
    assert stack_run.outputs[exports.WEB_ACL_ARN] == acl.outputs["arn"]


def test_waf_logs_go_to_an_encrypted_aws_waf_logs_group_with_credentials_redacted(stack_run: StackRun) -> None:
    logging = stack_run.one(LOGGING)
    request = put_logging_configuration_request(logging)
    assert validate_request("wafv2", "PutLoggingConfiguration", request) == []
    group_name = f"aws-waf-logs-container-platform-{stack_run.stack}"
    (group,) = [g for g in stack_run.of_type(LOG_GROUP) if g.inputs["name"] == group_name]
    assert request["LoggingConfiguration"]["LogDestinationConfigs"] == [group.outputs["arn"]]
    redacted = [f["SingleHeader"]["Name"] for f in request["LoggingConfiguration"]["RedactedFields"]]
    assert redacted == list(REDACTED_HEADERS)
    assert group.inputs["retentionInDays"] == {"dev": 14, "prod": 365}[stack_run.stack]
    # The stack's logs key where customerManagedKeys is on (prod), else the cluster's, as for the
    # services' log groups.
    key_name = "-keys-logs" if stack_run.stack == "prod" else "-ecs-exec-key"
    key = next(k for k in stack_run.of_type(KEY) if k.name.endswith(key_name))
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]


# -- alarms and rollback -------------------------------------------------------------------------------
def test_alarms_per_service_and_for_the_alb(stack_run: StackRun) -> None:
    alarms = _edge_alarms(stack_run)
    prefix = f"container-platform-{stack_run.stack}"
    expected = {f"{prefix}-alb-elb-5xx"} | {
        f"{prefix}-{svc}-{kind}" for svc in ("api", "ops") for kind in (*ROLLBACK, "task-shortfall")
    }
    assert set(alarms) == expected
    for alarm in alarms.values():
        assert validate_request("cloudwatch", "PutMetricAlarm", put_metric_alarm_request(alarm)) == []
        assert alarm.inputs["alarmActions"] == []  # no alarmTopicArn in the committed stacks
    target = alarms[f"{prefix}-api-target-5xx"]
    assert target.inputs["threshold"] == 5
    assert target.inputs["evaluationPeriods"] == 3
    assert alarms[f"{prefix}-api-latency-p99"].inputs["extendedStatistic"] == "p99"
    assert alarms[f"{prefix}-api-latency-p99"].inputs["threshold"] == 1.0  # seconds


def test_every_service_rolls_back_on_its_deployment_alarms_beside_the_circuit_breaker(stack_run: StackRun) -> None:
    alarms = _edge_alarms(stack_run)
    services = {s.inputs["name"]: s for s in stack_run.of_type(SERVICE)}
    assert set(services) == {"api", "ops"}
    for name, service in services.items():
        request = create_service_request(service)
        assert validate_request("ecs", "CreateService", request) == []
        configuration = request["deploymentConfiguration"]
        assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        names = [f"container-platform-{stack_run.stack}-{name}-{kind}" for kind in ROLLBACK]
        assert configuration["alarms"] == {"alarmNames": names, "enable": True, "rollback": True}
        # The service waits for its alarms (their name outputs), so they exist when ECS reads them.
        assert {alarms[n].urn for n in names} <= set(service.property_dependencies["alarms"])


def test_at_preview_the_deployment_alarms_are_known() -> None:
    run = cached_run("prod", preview=True)
    for service in run.of_type(SERVICE):
        assert service.inputs["alarms"]["alarmNames"] == [
            f"container-platform-prod-{service.inputs['name']}-{kind}" for kind in ROLLBACK
        ]


def test_one_dashboard_per_stack_with_the_alb_services_waf_cache_and_database(stack_run: StackRun) -> None:
    dashboard = stack_run.one(DASHBOARD)
    name = f"container-platform-{stack_run.stack}"
    assert dashboard.inputs["dashboardName"] == name == stack_run.outputs[exports.DASHBOARD_NAME]
    body = json.loads(dashboard.inputs["dashboardBody"])
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    for expected in ("Alarms", "ALB requests", "api: response time", "ops: tasks", "WAF: allowed, blocked, counted",
                     "Cache: Engine CPU %", "Database: CPU %"):  # fmt: skip
        assert expected in titles, expected
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    edge_alarms = [a.outputs["arn"] for a in _edge_alarms(stack_run).values()]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(edge_alarms)
    waf = next(w for w in body["widgets"] if w["properties"].get("title", "").startswith("WAF"))
    assert waf["properties"]["metrics"][0][:4] == ["AWS/WAFV2", "AllowedRequests", "WebACL", name]
    db = next(w for w in body["widgets"] if w["properties"].get("title") == "Database: CPU %")
    assert db["properties"]["metrics"][0] == ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", name]
    request = {"DashboardName": name, "DashboardBody": dashboard.inputs["dashboardBody"]}
    assert validate_request("cloudwatch", "PutDashboard", request) == []


# -- replicated images --------------------------------------------------------------------------------
def test_prod_replicas_get_the_sources_settings_through_a_creation_template() -> None:
    run = cached_run("prod")
    (template,) = run.of_type(TEMPLATE)
    request = create_repository_creation_template_request(template)
    assert validate_request("ecr", "CreateRepositoryCreationTemplate", request) == []
    assert template.inputs["region"] == "eu-central-1"
    repository = run.one(REPOSITORY).inputs
    assert request["prefix"] == "container-platform"
    assert request["appliedFor"] == ["REPLICATION"]
    assert request["imageTagMutability"] == repository["imageTagMutability"] == "IMMUTABLE"
    replica_key = next(k for k in run.of_type(KEY) if k.inputs.get("region") == "eu-central-1")
    assert request["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": replica_key.outputs["arn"]}
    lifecycle = next(p for p in run.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"))
    assert json.loads(request["lifecyclePolicy"]) == json.loads(lifecycle.inputs["policy"])
    assert cached_run("dev").of_type(TEMPLATE) == [], "dev replicates nothing"


def test_every_edge_component_is_in_both_plans() -> None:
    wanted: dict[str, set[str]] = {
        "dev": {"WebAcl", "EdgeAlarms", "StackDashboard"},
        "prod": {"Certificate", "ServiceDns", "WebAcl", "EdgeAlarms", "StackDashboard"},
    }
    for stack in STACKS:
        run = cached_run(stack)
        present = {r.type.rsplit(":", 1)[-1] for r in run.resources if r.is_component}
        assert wanted[stack] <= present, stack
