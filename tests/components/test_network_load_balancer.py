"""The NLB alone: static IPs per AZ, protocol combinations, the NLB -> ALB wiring, rejected specs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.aws_context import AwsContext
from components.errors import InputError
from components.load_balancer import (
    DEFAULT_TLS_POLICY,
    HealthCheck,
    LoadBalancer,
    LoadBalancerArgs,
    LoadBalancerSpec,
    RoutingRule,
    TargetGroupSpec,
)
from components.network_load_balancer import (
    AlbListener,
    AlbTarget,
    NetworkLoadBalancer,
    NetworkLoadBalancerArgs,
    NlbHealthCheck,
    NlbListener,
    NlbTargetGroup,
    alb_front_door,
)
from mockcloud.runner import StackConfig, StackRun, run_program
from tests.support import ComponentRunner

AZS3 = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
CONTEXT = AwsContext(account_id="123456789012", region="eu-west-1")
SUBNETS3 = ["subnet-0a", "subnet-0b", "subnet-0c"]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/8f1c2d3e-aaaa-bbbb-cccc-0123456789ab"
HTTP_CHECK = NlbHealthCheck(protocol="HTTP", path="/", matcher="200-499")
HTTPS_CHECK = NlbHealthCheck(protocol="HTTPS", path="/", matcher="200-499")
LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
EIP = "aws:ec2/eip:Eip"


def _alb_target(port: int, protocol: str, alb: aws.lb.LoadBalancer, sg: aws.ec2.SecurityGroup) -> AlbTarget:
    """A stand-in ALB listener (the real ALB component is tested on its own)."""
    listener = aws.lb.Listener(
        f"alb-{protocol.lower()}",
        load_balancer_arn=alb.arn,
        port=port,
        protocol=protocol,
        certificate_arn=CERT if protocol == "HTTPS" else None,
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="fixed-response",
                fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                    content_type="text/plain", status_code="404"
                ),
            )
        ],
    )
    return AlbTarget(
        load_balancer_arn=alb.arn,
        listener_arn=listener.arn,
        listener_port=port,
        listener_protocol=protocol,  # type: ignore[arg-type]
        security_group_id=sg.id,
    )


def _nlb_in_front_of_alb(**overrides: Any) -> NetworkLoadBalancer:
    alb_sg = aws.ec2.SecurityGroup("alb-sg", vpc_id="vpc-0123", description="stand-in ALB")
    alb = aws.lb.LoadBalancer("alb", load_balancer_type="application", subnets=SUBNETS3, security_groups=[alb_sg.id])
    args: dict[str, Any] = {
        "vpc_id": "vpc-0123",
        "subnet_ids": SUBNETS3,
        "availability_zones": AZS3,
        "ingress_cidrs": ["0.0.0.0/0"],
        "listeners": [
            NlbListener(port=80, protocol="TCP", target_group="alb-http"),
            NlbListener(port=443, protocol="TCP", target_group="alb-https"),
        ],
        "target_groups": [
            NlbTargetGroup(
                name="alb-http",
                protocol="TCP",
                port=80,
                target_type="alb",
                health_check=HTTP_CHECK,
                alb=_alb_target(80, "HTTP", alb, alb_sg),
            ),
            NlbTargetGroup(
                name="alb-https",
                protocol="TCP",
                port=443,
                target_type="alb",
                health_check=HTTPS_CHECK,
                alb=_alb_target(443, "HTTPS", alb, alb_sg),
            ),
        ],
    }
    args.update(overrides)
    return NetworkLoadBalancer("edge", NetworkLoadBalancerArgs(**args))


@pytest.fixture(scope="module")
def alb_run() -> StackRun:
    """One run shared by the wiring tests (module scope: the run_component fixture is per test)."""
    return run_program(
        lambda: _nlb_in_front_of_alb(protect_static_ips=True, deletion_protection=True),
        project="container-platform",
        stack="test",
        config=StackConfig(values={"aws:region": "eu-west-1"}, secret_keys=frozenset()),
    )


def test_one_elastic_ip_per_az_in_the_subnet_mappings(alb_run: StackRun) -> None:
    nlb = alb_run.one(LB, "edge-nlb")
    eips = sorted(alb_run.of_type(EIP), key=lambda e: e.name)  # registration order is async
    assert [e.name for e in eips] == ["edge-eip-1", "edge-eip-2", "edge-eip-3"]
    mappings = nlb.inputs["subnetMappings"]
    assert [m["subnetId"] for m in mappings] == SUBNETS3
    assert [m["allocationId"] for m in mappings] == [e.outputs["allocationId"] for e in eips]
    assert nlb.inputs["loadBalancerType"] == "network"
    assert nlb.inputs["internal"] is False
    assert nlb.inputs["enableCrossZoneLoadBalancing"] is True
    assert nlb.inputs["enableDeletionProtection"] is True
    assert "subnets" not in nlb.inputs


def test_static_ips_survive_a_replacement_of_the_nlb(alb_run: StackRun) -> None:
    nlb = alb_run.one(LB, "edge-nlb")
    # EIPs are their own (protected) resources, and the NLB lets go of them before a replacement
    # takes them over.
    assert nlb.options["deleteBeforeReplace"] is True
    for eip in alb_run.of_type(EIP):
        assert eip.options["protect"] is True
        assert eip.inputs["domain"] == "vpc"
        assert eip.parent == alb_run.one("platform:nlb:NetworkLoadBalancer").urn


def test_alb_target_groups_are_tcp_with_http_health_checks(alb_run: StackRun) -> None:
    groups = {g.name: g.inputs for g in alb_run.of_type(TG) if g.name.startswith("edge-")}
    assert set(groups) == {"edge-alb-http", "edge-alb-https"}
    for name, port, protocol in (("edge-alb-http", 80, "HTTP"), ("edge-alb-https", 443, "HTTPS")):
        group = groups[name]
        assert (group["targetType"], group["protocol"], group["port"]) == ("alb", "TCP", port)
        check = group["healthCheck"]
        assert check["protocol"] == protocol
        assert check["port"] == "traffic-port"
        assert check["enabled"] is True
        assert 5 <= check["interval"] <= 300
        assert 2 <= check["timeout"] < check["interval"]


def test_alb_registration_waits_for_the_alb_listener_on_its_port(alb_run: StackRun) -> None:
    alb = alb_run.one(LB, "alb")
    listeners = {r.name: r for r in alb_run.of_type(LISTENER)}
    for attachment_name, listener_name, port in (
        ("edge-alb-http-alb", "alb-http", 80),
        ("edge-alb-https-alb", "alb-https", 443),
    ):
        attachment = alb_run.one(ATTACHMENT, attachment_name)
        assert attachment.inputs["targetId"] == alb.outputs["arn"]
        assert attachment.inputs["port"] == port
        assert listeners[listener_name].urn in attachment.property_dependencies["targetId"]
        assert listeners[listener_name].urn in attachment.dependencies


def test_nlb_listeners_forward_tcp_to_the_alb_groups(alb_run: StackRun) -> None:
    groups = {g.name: g.id for g in alb_run.of_type(TG)}
    nlb_arn = alb_run.one(LB, "edge-nlb").outputs["arn"]
    listeners = {r.inputs["port"]: r.inputs for r in alb_run.of_type(LISTENER) if r.name.startswith("edge-")}
    assert set(listeners) == {80, 443}
    for port, group in ((80, "edge-alb-http"), (443, "edge-alb-https")):
        assert listeners[port]["loadBalancerArn"] == nlb_arn
        assert listeners[port]["protocol"] == "TCP"
        assert "sslPolicy" not in listeners[port]
        assert listeners[port]["defaultActions"] == [{"type": "forward", "targetGroupArn": groups[group]}]


def test_nlb_security_group_and_the_rule_it_adds_on_the_alb(alb_run: StackRun) -> None:
    nlb_sg = alb_run.one("aws:ec2/securityGroup:SecurityGroup", "edge-sg")
    alb_sg = alb_run.one("aws:ec2/securityGroup:SecurityGroup", "alb-sg")
    assert alb_run.one(LB, "edge-nlb").inputs["securityGroups"] == [nlb_sg.id]
    public = [r.inputs for r in alb_run.of_type(INGRESS) if r.inputs["securityGroupId"] == nlb_sg.id]
    assert sorted((r["ipProtocol"], r["fromPort"], r["cidrIpv4"]) for r in public) == [
        ("tcp", 80, "0.0.0.0/0"),
        ("tcp", 443, "0.0.0.0/0"),
    ]
    on_alb = [r.inputs for r in alb_run.of_type(INGRESS) if r.inputs["securityGroupId"] == alb_sg.id]
    assert sorted(r["fromPort"] for r in on_alb) == [80, 443]
    for rule in on_alb:
        assert rule["referencedSecurityGroupId"] == nlb_sg.id
        assert rule["description"]
        assert "cidrIpv4" not in rule
    egress = [r.inputs for r in alb_run.of_type(EGRESS)]
    assert sorted((r["fromPort"], r["referencedSecurityGroupId"]) for r in egress) == [
        (80, alb_sg.id),
        (443, alb_sg.id),
    ]
    assert all(r["securityGroupId"] == nlb_sg.id and r["description"] for r in egress)


def test_every_child_is_named_and_parented(alb_run: StackRun) -> None:
    component = alb_run.one("platform:nlb:NetworkLoadBalancer")
    children = alb_run.children(component.urn)
    assert children
    assert all(c.name.startswith("edge-") for c in children)
    assert not [r for r in alb_run.resources if r.name.startswith("edge-") and r.parent != component.urn and r.custom]


def _udp_tls_spec(**overrides: Any) -> NetworkLoadBalancerArgs:
    args: dict[str, Any] = {
        "vpc_id": "vpc-0123",
        "subnet_ids": SUBNETS3[:2],
        "availability_zones": AZS3[:2],
        "ingress_cidrs": ["198.51.100.0/24"],
        "listeners": [
            NlbListener(port=53, protocol="TCP_UDP", target_group="dns"),
            NlbListener(port=514, protocol="UDP", target_group="syslog"),
            NlbListener(
                port=443, protocol="TLS", target_group="api", certificate_arn=CERT, alpn_policy="HTTP2Preferred"
            ),
        ],
        "target_groups": [
            NlbTargetGroup(
                name="dns",
                protocol="TCP_UDP",
                port=53,
                target_type="ip",
                health_check=NlbHealthCheck(),
                targets=["10.0.0.10", "10.0.8.10"],
                target_security_group_id="sg-0dns",
            ),
            NlbTargetGroup(
                name="syslog",
                protocol="UDP",
                port=514,
                target_type="instance",
                health_check=NlbHealthCheck(port=8514),
                targets=["i-0123456789abcdef0"],
                target_security_group_id="sg-0syslog",
            ),
            NlbTargetGroup(
                name="api",
                protocol="TLS",
                port=8443,
                target_type="ip",
                health_check=NlbHealthCheck(protocol="HTTPS", path="/healthz", matcher="200"),
                targets=["10.0.0.20"],
                target_security_group_id="sg-0api",
            ),
        ],
    }
    args.update(overrides)
    return NetworkLoadBalancerArgs(**args)


def test_udp_tcp_udp_and_tls_listeners(run_component: ComponentRunner) -> None:
    run = run_component(lambda: NetworkLoadBalancer("svc", _udp_tls_spec()))
    listeners = {r.inputs["port"]: r.inputs for r in run.of_type(LISTENER)}
    assert {p: listener["protocol"] for p, listener in listeners.items()} == {53: "TCP_UDP", 514: "UDP", 443: "TLS"}
    tls = listeners[443]
    assert tls["certificateArn"] == CERT
    assert tls["sslPolicy"] == DEFAULT_TLS_POLICY
    assert "TLS13" in tls["sslPolicy"]
    assert tls["alpnPolicy"] == "HTTP2Preferred"
    assert "certificateArn" not in listeners[53]
    assert "sslPolicy" not in listeners[514]

    groups = {g.name: g.inputs for g in run.of_type(TG)}
    assert groups["svc-syslog"]["healthCheck"]["port"] == "8514"
    assert groups["svc-syslog"]["healthCheck"]["protocol"] == "TCP"
    assert "path" not in groups["svc-syslog"]["healthCheck"]
    assert groups["svc-api"]["healthCheck"] | {"path": "/healthz", "matcher": "200"} == groups["svc-api"]["healthCheck"]

    attachments = sorted((a.inputs["targetId"], a.inputs["port"]) for a in run.of_type(ATTACHMENT))
    assert attachments == [("10.0.0.10", 53), ("10.0.0.20", 8443), ("10.0.8.10", 53), ("i-0123456789abcdef0", 514)]

    # Client rules per listener protocol: TCP_UDP opens both.
    sg = run.one("aws:ec2/securityGroup:SecurityGroup")
    public = sorted(
        (r.inputs["ipProtocol"], r.inputs["fromPort"])
        for r in run.of_type(INGRESS)
        if r.inputs["securityGroupId"] == sg.id
    )
    assert public == [("tcp", 53), ("tcp", 443), ("udp", 53), ("udp", 514)]
    # Rules the NLB adds on each target group's security group (traffic + TCP health checks).
    on_targets = sorted(
        (r.inputs["securityGroupId"], r.inputs["ipProtocol"], r.inputs["fromPort"])
        for r in run.of_type(INGRESS)
        if r.inputs["securityGroupId"] != sg.id
    )
    assert on_targets == [
        ("sg-0api", "tcp", 8443),
        ("sg-0dns", "tcp", 53),
        ("sg-0dns", "udp", 53),
        ("sg-0syslog", "tcp", 8514),
        ("sg-0syslog", "udp", 514),
    ]


def test_internal_nlb_has_no_public_addresses(run_component: ComponentRunner) -> None:
    run = run_component(lambda: NetworkLoadBalancer("int", _udp_tls_spec(internal=True)))
    nlb = run.one(LB)
    assert run.of_type(EIP) == []
    assert nlb.inputs["internal"] is True
    assert all("allocationId" not in m for m in nlb.inputs["subnetMappings"])
    assert nlb.options["deleteBeforeReplace"] is False


def test_existing_elastic_ips_are_used_as_given(run_component: ComponentRunner) -> None:
    existing = ["eipalloc-0aaaaaaaaaaaaaaa1", "eipalloc-0aaaaaaaaaaaaaaa2"]
    holder: list[NetworkLoadBalancer] = []

    def program() -> None:
        nlb = NetworkLoadBalancer("byo", _udp_tls_spec(existing_eip_allocation_ids=existing))
        holder.append(nlb)
        pulumi.export("ips", nlb.static_ips)

    run = run_component(program)
    assert run.of_type(EIP) == []
    assert [m["allocationId"] for m in run.one(LB).inputs["subnetMappings"]] == existing
    assert all(ip.startswith("198.51.100.") for ip in run.outputs["ips"])


def test_no_security_group_when_switched_off(run_component: ComponentRunner) -> None:
    groups = [dataclasses.replace(tg, target_security_group_id=None) for tg in _udp_tls_spec().target_groups]
    run = run_component(
        lambda: NetworkLoadBalancer("open", _udp_tls_spec(security_group=False, ingress_cidrs=[], target_groups=groups))
    )
    assert "securityGroups" not in run.one(LB).inputs
    assert run.of_type(INGRESS) == []
    assert run.of_type(EGRESS) == []


def test_preview_knows_the_shape_but_not_the_addresses(run_component: ComponentRunner) -> None:
    def program() -> None:
        nlb = NetworkLoadBalancer("pv", _udp_tls_spec())
        pulumi.export("ips", nlb.static_ips)

    run = run_component(program, preview=True)
    assert len(run.of_type(EIP)) == 2
    assert "ips" in run.unknown_outputs


# -- in front of the real ALB component ---------------------------------------------------------------
def _front_door_of_real_alb(certificate_arn: str | None) -> None:
    alb = LoadBalancer(
        "web",
        LoadBalancerArgs(
            context=CONTEXT,
            vpc_id="vpc-0123",
            subnet_ids=SUBNETS3,
            target_groups=[TargetGroupSpec(key="api", health_check=HealthCheck(path="/readyz"))],
            rules=[RoutingRule(name="api", target="api", path_patterns=["/api/*"])],
            certificate_arn=certificate_arn,
            spec=LoadBalancerSpec(
                ingress_cidrs=["0.0.0.0/0"],
                ssl_policy=DEFAULT_TLS_POLICY,
                deletion_protection=False,
                access_logs=False,
                access_log_expiration_days=30,
            ),
        ),
    )
    alb_listeners = [AlbListener(port=80, protocol="HTTP", arn=alb.http_listener_arn)]
    if alb.https_listener_arn is not None:
        alb_listeners.append(AlbListener(port=443, protocol="HTTPS", arn=alb.https_listener_arn))
    listeners, groups = alb_front_door(
        alb_arn=alb.arn, alb_security_group_id=alb.security_group_id, alb_listeners=alb_listeners
    )
    NetworkLoadBalancer(
        "edge",
        NetworkLoadBalancerArgs(
            vpc_id="vpc-0123",
            subnet_ids=SUBNETS3,
            availability_zones=AZS3,
            ingress_cidrs=["0.0.0.0/0"],
            listeners=listeners,
            target_groups=groups,
        ),
    )


@pytest.mark.parametrize(("certificate", "ports"), [(None, [80]), (CERT, [80, 443])])
def test_front_door_of_the_alb_component(
    run_component: ComponentRunner, certificate: str | None, ports: list[int]
) -> None:
    run = run_component(lambda: _front_door_of_real_alb(certificate))
    alb = run.one(LB, "web-alb")
    alb_sg = run.one("aws:ec2/securityGroup:SecurityGroup", "web-sg")
    alb_listeners = {r.inputs["port"]: r for r in run.of_type(LISTENER) if r.name.startswith("web-")}
    nlb_listeners = sorted(r.inputs["port"] for r in run.of_type(LISTENER) if r.name.startswith("edge-"))
    assert nlb_listeners == ports
    for port in ports:
        group = run.one(TG, f"edge-alb-{port}").inputs
        assert (group["targetType"], group["protocol"], group["port"]) == ("alb", "TCP", port)
        assert group["healthCheck"]["protocol"] == alb_listeners[port].inputs["protocol"]
        attachment = run.one(ATTACHMENT, f"edge-alb-{port}-alb")
        assert attachment.inputs["targetId"] == alb.outputs["arn"]
        assert alb_listeners[port].urn in attachment.dependencies
    on_alb = [r.inputs for r in run.of_type(INGRESS) if r.name.startswith("edge-into-")]
    assert sorted(r["fromPort"] for r in on_alb) == ports
    assert all(r["securityGroupId"] == alb_sg.id for r in on_alb)


# -- rejected specs ----------------------------------------------------------------------------------
def _alb_group(**overrides: Any) -> NlbTargetGroup:
    fields: dict[str, Any] = {
        "name": "alb",
        "protocol": "TCP",
        "port": 80,
        "target_type": "alb",
        "health_check": HTTP_CHECK,
        "alb": AlbTarget(
            load_balancer_arn="arn:alb",
            listener_arn="arn:listener",
            listener_port=80,
            listener_protocol="HTTP",
            security_group_id="sg-0alb",
        ),
    }
    fields.update(overrides)
    return NlbTargetGroup(**fields)


def _args(**overrides: Any) -> NetworkLoadBalancerArgs:
    fields: dict[str, Any] = {
        "vpc_id": "vpc-0123",
        "subnet_ids": SUBNETS3,
        "availability_zones": AZS3,
        "ingress_cidrs": ["0.0.0.0/0"],
        "listeners": [NlbListener(port=80, protocol="TCP", target_group="alb")],
        "target_groups": [_alb_group()],
    }
    fields.update(overrides)
    return NetworkLoadBalancerArgs(**fields)


def _ip_group(protocol: str, **overrides: Any) -> NlbTargetGroup:
    fields: dict[str, Any] = {
        "name": "app",
        "protocol": protocol,
        "port": 8080,
        "target_type": "ip",
        "health_check": NlbHealthCheck(port=8081),
        "target_security_group_id": "sg-0app",
    }
    fields.update(overrides)
    return NlbTargetGroup(**fields)


def _listener(protocol: str, **overrides: Any) -> NlbListener:
    fields: dict[str, Any] = {"port": 443, "protocol": protocol, "target_group": "app"}
    if protocol == "TLS":
        fields["certificate_arn"] = CERT
    fields.update(overrides)
    return NlbListener(**fields)


def _app(protocol: str = "TCP", **group: Any) -> dict[str, Any]:
    """Overrides for one ip target group 'app' behind one listener of the same protocol."""
    return {"listeners": [_listener(protocol)], "target_groups": [_ip_group(protocol, **group)]}


@pytest.mark.parametrize(
    ("listener", "group"),
    [
        ("TCP", "TCP"),
        ("TCP", "TCP_UDP"),
        ("TLS", "TCP"),
        ("TLS", "TLS"),
        ("UDP", "UDP"),
        ("UDP", "TCP_UDP"),
        ("TCP_UDP", "TCP_UDP"),
    ],
)
def test_allowed_listener_to_target_group_protocols(listener: str, group: str) -> None:
    _args(listeners=[_listener(listener)], target_groups=[_ip_group(group)])


@pytest.mark.parametrize(
    ("listener", "group"),
    [("TCP", "UDP"), ("TCP", "TLS"), ("TLS", "UDP"), ("TLS", "TCP_UDP"), ("UDP", "TCP"), ("TCP_UDP", "TCP")],
)
def test_rejected_listener_to_target_group_protocols(listener: str, group: str) -> None:
    with pytest.raises(InputError, match=rf"for a {listener} listener \('app' is {group}\)"):
        _args(listeners=[_listener(listener)], target_groups=[_ip_group(group)])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # alb targets: TCP only, HTTP(S) checks, the ALB listener's port and protocol
        (
            {"listeners": [NlbListener(port=53, protocol="UDP", target_group="alb")]},
            "only TCP listeners can forward to an ALB",
        ),
        ({"target_groups": [_alb_group(protocol="UDP")]}, "an 'alb' target group accepts only TCP"),
        ({"target_groups": [_alb_group(protocol="TLS")]}, "an 'alb' target group accepts only TCP"),
        ({"target_groups": [_alb_group(health_check=NlbHealthCheck())]}, "is checked through one of its listeners"),
        ({"target_groups": [_alb_group(port=8080)]}, r"the ALB listener's port \(80\)"),
        (
            {"target_groups": [_alb_group(health_check=HTTPS_CHECK)]},
            r"'target_groups\[0\].health_check.protocol' = 'HTTPS' .* HTTP, the protocol of the ALB's listener on 80",
        ),
        ({"target_groups": [_alb_group(alb=None)]}, r"the ALB \(AlbTarget\)"),
        ({"target_groups": [_alb_group(targets=["10.0.0.1"])]}, "one target is alb"),
        # static IPs
        (
            {"existing_eip_allocation_ids": ["eipalloc-0aaaaaaaaaaaaaaa1", "eipalloc-0aaaaaaaaaaaaaaa2"]},
            r"exactly one Elastic IP per AZ \(3\)",
        ),
        ({"existing_eip_allocation_ids": ["eip-1", "eip-2", "eip-3"]}, "allocation IDs eipalloc-"),
        ({"internal": True, "existing_eip_allocation_ids": ["eipalloc-0aaaaaaaaaaaaaaa1"] * 3}, "internal NLB"),
        ({"subnet_ids": SUBNETS3[:2]}, r"'subnet_ids' = '2 subnets' is not valid; allowed: one subnet per AZ \(3\)"),
        # TLS
        (
            {"listeners": [_listener("TLS", certificate_arn=None)], "target_groups": [_ip_group("TCP")]},
            "a TLS listener needs a certificate",
        ),
        (
            {
                "listeners": [_listener("TLS", ssl_policy="ELBSecurityPolicy-2016-08")],
                "target_groups": [_ip_group("TCP")],
            },
            "ssl_policy' = 'ELBSecurityPolicy-2016-08'",
        ),
        (
            {"listeners": [_listener("TCP", certificate_arn=CERT)], "target_groups": [_ip_group("TCP")]},
            "none: only TLS listeners take one",
        ),
        # health checks (NLB ranges)
        (_app("UDP", health_check=NlbHealthCheck()), "an explicit TCP port"),
        (_app(health_check=NlbHealthCheck(interval_seconds=4)), "a whole number from 5 to 300"),
        (_app(health_check=NlbHealthCheck(timeout_seconds=10)), "less than"),
        (_app(health_check=NlbHealthCheck(healthy_threshold=11)), "from 2 to 10"),
        (_app(health_check=NlbHealthCheck(path="/")), "take a path"),
        (_app(health_check=NlbHealthCheck(protocol="HTTP", matcher="200-600")), "each from 200 to 599"),
        # wiring
        (_app(target_security_group_id=None), "the targets' security group"),
        (_app(targets=["8.8.8.8"]), "never publicly routable"),
        (_app(target_type="instance", targets=["web-1"]), r"instance IDs \(i-...\)"),
        ({"ingress_cidrs": []}, "admits no one"),
        ({"ingress_cidrs": ["10.0.0.0/33"]}, r"\(bad: 10.0.0.0/33\)"),
        ({"ingress_cidrs": ["0.0.0.0/0"], "security_group": False}, "empty when security_group is False"),
        (
            {"target_groups": [_alb_group(), _ip_group("TCP")]},
            r"'target_groups' = \['app'\] is not valid; allowed: only target groups some listener forwards to",
        ),
        (
            {
                "listeners": [NlbListener(port=80, protocol="TCP", target_group="alb")] * 2,
            },
            "a port no other listener uses",
        ),
        (
            {"listeners": [NlbListener(port=80, protocol="TCP", target_group="web")]},
            "'web' is not valid; allowed: one of alb",
        ),
    ],
)
def test_bad_specs_fail_before_anything_is_created(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _args(**overrides)
