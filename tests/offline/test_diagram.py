"""The architecture diagram: traffic from security-group rules, deterministic for the real stack."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mockcloud.runner import run_stack
from offline.diagram import mermaid
from tests.support import ComponentRunner


class _Box(pulumi.ComponentResource):
    """A component with one security group, for diagram tests."""

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(f"test:diagram:{kind}", name)
        self.sg = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id="vpc-1", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def test_diagram_draws_traffic_from_security_group_rules(run_component: ComponentRunner) -> None:
    def program() -> None:
        edge, app, data = _Box("edge", "Edge"), _Box("app", "App"), _Box("data", "Data")
        aws.vpc.SecurityGroupIngressRule(
            "web-in", security_group_id=edge.sg.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, opts=pulumi.ResourceOptions(parent=edge),
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            "app-in", security_group_id=app.sg.id, referenced_security_group_id=edge.sg.id,
            ip_protocol="tcp", from_port=8080, to_port=8080, opts=pulumi.ResourceOptions(parent=app),
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            "data-in", security_group_id=data.sg.id, referenced_security_group_id=app.sg.id,
            ip_protocol="tcp", from_port=6379, to_port=6379, opts=pulumi.ResourceOptions(parent=app),
        )  # fmt: skip

    diagram = mermaid(run_component(program))
    lines = diagram.splitlines()
    assert "  internet((Internet))" in lines
    assert any(line.startswith('  internet -->|"tcp 443"| c_edge') for line in lines)
    assert any(line.startswith("  c_edge") and '-->|"tcp 8080"| c_app' in line for line in lines)
    assert any(line.startswith("  c_app") and '-->|"tcp 6379"| c_data' in line for line in lines)
    assert diagram == mermaid(run_component(program)), "the diagram is deterministic"


def test_diagram_of_the_real_stack_is_identical_across_runs() -> None:
    # Components built concurrently register in varying order; the README embeds this diagram.
    first = mermaid(run_stack("dev"))
    assert all(mermaid(run_stack("dev")) == first for _ in range(4))
