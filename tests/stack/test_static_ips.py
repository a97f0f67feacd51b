"""The static-IP NLB in the whole program: on in prod in front of the ALB, off in dev unless overridden."""

from __future__ import annotations

from stack import exports
from tests.support import cached_run

NLB = "platform:nlb:NetworkLoadBalancer"
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
EIP = "aws:ec2/eip:Eip"


def test_prod_has_one_protected_elastic_ip_per_az_on_the_nlb() -> None:
    prod = cached_run("prod")
    nlb = prod.one(LB, "prod-nlb-nlb")
    eips = {e.outputs["allocationId"]: e for e in prod.of_type(EIP) if e.name.startswith("prod-nlb-eip-")}
    assert len(eips) == len(prod.outputs[exports.AVAILABILITY_ZONES]) == 3
    mappings = nlb.inputs["subnetMappings"]
    assert [m["subnetId"] for m in mappings] == prod.outputs[exports.PUBLIC_SUBNET_IDS]
    assert {m["allocationId"] for m in mappings} == set(eips)
    assert all(e.options["protect"] for e in eips.values())
    assert nlb.options["deleteBeforeReplace"] is True
    assert nlb.inputs["enableDeletionProtection"] is True
    assert nlb.inputs["enableCrossZoneLoadBalancing"] is True
    assert sorted(prod.outputs[exports.NLB_STATIC_IPS]) == sorted(e.outputs["publicIp"] for e in eips.values())
    assert prod.outputs[exports.NLB_DNS_NAME] == nlb.outputs["dnsName"]


def test_prod_nlb_forwards_tcp_80_and_443_to_the_alb_listeners() -> None:
    prod = cached_run("prod")
    alb = prod.one(LB, "prod-alb-alb")
    alb_listeners = {r.inputs["port"]: r for r in prod.of_type(LISTENER) if r.name.startswith("prod-alb-")}
    nlb_listeners = {r.inputs["port"]: r.inputs for r in prod.of_type(LISTENER) if r.name.startswith("prod-nlb-")}
    assert sorted(nlb_listeners) == [80, 443]
    for port, protocol in ((80, "HTTP"), (443, "HTTPS")):
        group = prod.one(TG, f"prod-nlb-alb-{port}")
        assert nlb_listeners[port]["protocol"] == "TCP"
        assert nlb_listeners[port]["defaultActions"] == [{"type": "forward", "targetGroupArn": group.id}]
        assert (group.inputs["targetType"], group.inputs["protocol"], group.inputs["port"]) == ("alb", "TCP", port)
        assert group.inputs["healthCheck"]["protocol"] == alb_listeners[port].inputs["protocol"] == protocol
        attachment = prod.one(ATTACHMENT, f"prod-nlb-alb-{port}-alb")
        assert attachment.inputs["targetId"] == alb.outputs["arn"]
        assert alb_listeners[port].urn in attachment.dependencies, "registered only once the ALB listens there"


def test_prod_nlb_admits_only_the_configured_clients_and_is_admitted_by_the_alb() -> None:
    prod = cached_run("prod")
    nlb_sg = prod.one(SG, "prod-nlb-sg")
    alb_sg = prod.one(SG, "prod-alb-sg")
    clients = sorted(
        (r.inputs["fromPort"], r.inputs["cidrIpv4"])
        for r in prod.of_type(INGRESS)
        if r.inputs["securityGroupId"] == nlb_sg.id
    )
    configured = ["198.51.100.0/24", "203.0.113.0/24"]
    assert clients == sorted((port, cidr) for port in (80, 443) for cidr in configured)
    from_nlb = [
        r.inputs
        for r in prod.of_type(INGRESS)
        if r.inputs["securityGroupId"] == alb_sg.id and r.inputs.get("referencedSecurityGroupId") == nlb_sg.id
    ]
    assert sorted(r["fromPort"] for r in from_nlb) == [80, 443]
    assert all(r["description"] for r in from_nlb)


def test_dev_has_no_nlb() -> None:
    dev = cached_run("dev")
    assert dev.of_type(NLB) == []
    assert dev.outputs[exports.NLB_STATIC_IPS] is None
    assert dev.outputs[exports.NLB_DNS_NAME] is None


def test_dev_nlb_on_demand_follows_the_http_only_alb() -> None:
    dev = cached_run("dev", nlbEnabled=True, nlbIngressCidrs=["198.51.100.0/24"])
    listeners = sorted(r.inputs["port"] for r in dev.of_type(LISTENER) if r.name.startswith("dev-nlb-"))
    assert listeners == [80], "no 443 while the ALB has no HTTPS listener"
    eips = [e for e in dev.of_type(EIP) if e.name.startswith("dev-nlb-eip-")]
    assert len(eips) == 2
    assert not any(e.options["protect"] for e in eips), "dev has no deletion protection"
    assert len(dev.outputs[exports.NLB_STATIC_IPS]) == 2


def test_static_ips_and_inspection_together() -> None:
    # The NLB lives in the public subnets, so with inspection on its traffic crosses the endpoints too.
    run = cached_run("prod", gwlbEnabled=True, gwlbApplianceIps=["10.255.0.10", "10.255.0.40", "10.255.0.70"])
    nlb = run.one(LB, "prod-nlb-nlb")
    assert [m["subnetId"] for m in nlb.inputs["subnetMappings"]] == run.outputs[exports.PUBLIC_SUBNET_IDS]
    assert len(run.outputs[exports.INSPECTION_ENDPOINT_IDS]) == 3
