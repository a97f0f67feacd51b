"""Security groups: only the ALB's security group is open to the internet, and only on TCP 80/443."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pytest

from tests.policies.builders import alb
from tests.policies.support import Analyze, flagged, messages, unknown_notes
from tests.support import ComponentRunner

VPC = "vpc-0123456789abcdef0"


def _ingress(name: str, group: aws.ec2.SecurityGroup, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "security_group_id": group.id,
        "description": name,
        "ip_protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "cidr_ipv4": "0.0.0.0/0",
        **overrides,
    }
    aws.vpc.SecurityGroupIngressRule(name, **args)


def _security_groups() -> None:
    edge = aws.ec2.SecurityGroup("alb-sg", vpc_id=VPC, description="ALB")
    tasks = aws.ec2.SecurityGroup("task-sg", vpc_id=VPC, description="tasks")
    alb("public", security_groups=[edge.id])
    _ingress("https-from-internet", edge)
    _ingress("http-from-internet", edge, from_port=80, to_port=80, cidr_ipv4=None, cidr_ipv6="::/0")
    _ingress("from-alb", tasks, from_port=8080, to_port=8080, cidr_ipv4=None, referenced_security_group_id=edge.id)
    _ingress("from-vpc", tasks, from_port=8080, to_port=8080, cidr_ipv4="10.0.0.0/16")
    _ingress("ssh-on-alb", edge, from_port=22, to_port=22)
    _ingress("all-traffic-on-alb", edge, ip_protocol="-1", from_port=None, to_port=None)
    _ingress("https-to-tasks", tasks)
    aws.ec2.SecurityGroupRule(
        "legacy-rule", type="ingress", security_group_id=tasks.id, protocol="tcp", from_port=5432, to_port=5432,
        cidr_blocks=["0.0.0.0/0"],
    )  # fmt: skip
    aws.ec2.SecurityGroup(
        "inline-sg", vpc_id=VPC, description="inline",
        ingress=[{"protocol": "tcp", "from_port": 6379, "to_port": 6379, "cidr_blocks": ["0.0.0.0/0"]}],
    )  # fmt: skip


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_only_the_alb_accepts_internet_traffic_on_80_and_443(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    # At preview the security group IDs are unknown; the rules' property dependencies are not.
    report = analyze(run_component(_security_groups, preview=preview))
    assert flagged(report, "sg-no-public-ingress") == {
        "ssh-on-alb",
        "all-traffic-on-alb",
        "https-to-tasks",
        "legacy-rule",
        "inline-sg",
    }
    assert (
        "does not belong to an Application Load Balancer"
        in messages(report, "sg-no-public-ingress", "https-to-tasks")[0]
    )
    assert "ports 22-22" in messages(report, "sg-no-public-ingress", "ssh-on-alb")[0]
    assert [n for n in unknown_notes(report) if n.startswith("sg-no-public-ingress")] == []
