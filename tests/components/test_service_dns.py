"""Alias records for the service hosts alone: A per host, AAAA to dual-stack targets, the NLB option."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pytest

from components.errors import InputError
from components.hosted_zone import HostedZone
from components.service_dns import AliasTarget, ServiceDns, ServiceDnsArgs, ServiceHost
from mockcloud.runner import StackRun
from tests.aws_validation import validate_request
from tests.support import ComponentRunner

ZONE = HostedZone(zone_id="Z0EXAMPLE000000000001", name="example.com")
ALB = AliasTarget(dns_name="dev-alb-1234567890.eu-west-1.elb.amazonaws.com", zone_id="Z32O12XQLNTSW2")
NLB = AliasTarget(dns_name="dev-nlb-0123456789abcdef.elb.eu-west-1.amazonaws.com", zone_id="Z2IFOLAFXWLO4F")
HOSTS = (ServiceHost(key="api", name="api.catalog.example.com"), ServiceHost(key="ops", name="ops.catalog.example.com"))
RECORD = "aws:route53/record:Record"


def _args(**overrides: Any) -> ServiceDnsArgs:
    return ServiceDnsArgs(**{"zone": ZONE, "hosts": HOSTS, "alb": ALB, **overrides})


def _dns(run_component: ComponentRunner, **overrides: Any) -> StackRun:
    return run_component(lambda: ServiceDns("edge-dns", _args(**overrides)))


def _change(record: dict[str, Any]) -> dict[str, Any]:
    alias = record["aliases"][0]
    return {
        "HostedZoneId": record["zoneId"],
        "ChangeBatch": {
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record["name"],
                        "Type": record["type"],
                        "AliasTarget": {
                            "HostedZoneId": alias["zoneId"],
                            "DNSName": alias["name"],
                            "EvaluateTargetHealth": alias["evaluateTargetHealth"],
                        },
                    },
                }
            ]
        },
    }


def test_each_host_gets_an_alias_a_record_to_the_alb(run_component: ComponentRunner) -> None:
    run = _dns(run_component)
    records = {(r.inputs["name"], r.inputs["type"]): r.inputs for r in run.of_type(RECORD)}
    assert set(records) == {("api.catalog.example.com", "A"), ("ops.catalog.example.com", "A")}
    for record in records.values():
        assert record["zoneId"] == ZONE.zone_id
        assert record["aliases"] == [{"name": ALB.dns_name, "zoneId": ALB.zone_id, "evaluateTargetHealth": True}]
        assert "ttl" not in record
        assert "records" not in record
        assert validate_request("route53", "ChangeResourceRecordSets", _change(record)) == []


def test_a_dual_stack_target_gets_aaaa_records_too(run_component: ComponentRunner) -> None:
    dualstack = AliasTarget(dns_name=ALB.dns_name, zone_id=ALB.zone_id, ipv6=True)
    captured: dict[str, ServiceDns] = {}

    def program() -> None:
        captured["dns"] = ServiceDns("edge-dns", _args(alb=dualstack))

    run = run_component(program)
    types = sorted((r.inputs["name"], r.inputs["type"]) for r in run.of_type(RECORD))
    assert types == [
        ("api.catalog.example.com", "A"),
        ("api.catalog.example.com", "AAAA"),
        ("ops.catalog.example.com", "A"),
        ("ops.catalog.example.com", "AAAA"),
    ]
    assert captured["dns"].record_types == {"api": ["A", "AAAA"], "ops": ["A", "AAAA"]}


def test_a_host_can_point_at_the_static_ip_nlb(run_component: ComponentRunner) -> None:
    hosts = (*HOSTS, ServiceHost(key="partners", name="partners.catalog.example.com", target="nlb"))
    run = _dns(run_component, hosts=hosts, nlb=NLB)
    by_name = {r.inputs["name"]: r.inputs for r in run.of_type(RECORD)}
    assert by_name["partners.catalog.example.com"]["aliases"][0]["name"] == NLB.dns_name
    assert by_name["partners.catalog.example.com"]["aliases"][0]["zoneId"] == NLB.zone_id
    assert by_name["api.catalog.example.com"]["aliases"][0]["name"] == ALB.dns_name


def test_alias_records_depend_on_the_load_balancer_outputs(run_component: ComponentRunner) -> None:
    """With the real ALB's outputs, each record waits for the load balancer (property dependencies)."""

    def program() -> None:
        lb = aws.lb.LoadBalancer("web", load_balancer_type="application", subnets=["subnet-a", "subnet-b"])
        ServiceDns("edge-dns", _args(alb=AliasTarget(dns_name=lb.dns_name, zone_id=lb.zone_id)))

    run = run_component(program, preview=True)
    lb = run.one("aws:lb/loadBalancer:LoadBalancer")
    for record in run.of_type(RECORD):
        assert lb.urn in record.property_dependencies["aliases"]


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"hosts": ()}, "hosts"),
        ({"hosts": (ServiceHost(key="api", name="api.example.net"),)}, "hosts[api].name"),
        ({"hosts": (ServiceHost(key="api", name="api_x.example.com"),)}, "hosts[api].name"),
        ({"hosts": (ServiceHost(key="Api", name="api.example.com"),)}, "hosts[0].key"),
        ({"hosts": (ServiceHost(key="api", name="api.example.com", target="nlb"),)}, "hosts[api].target"),
        ({"hosts": (ServiceHost(key="api", name="api.example.com", target="cdn"),)}, "hosts[api].target"),  # type: ignore[arg-type]
        ({"hosts": (*HOSTS, ServiceHost(key="api", name="x.example.com"))}, "hosts[].key"),
        ({"hosts": (*HOSTS, ServiceHost(key="x", name="api.catalog.example.com"))}, "hosts[].name"),
    ],
)
def test_bad_hosts_are_refused_naming_the_setting(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        _args(**overrides)
    assert error.value.setting == setting
