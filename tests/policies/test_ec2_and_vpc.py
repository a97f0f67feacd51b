"""VPC hygiene (default security group, flow logs, public IPs, egress, descriptions) and instances or
launch templates (IMDSv2, encrypted EBS, public IPs, credentials in user data); ALB desync mode."""

from __future__ import annotations

import base64
from typing import Any

import pulumi_aws as aws

from tests.policies.builders import alb
from tests.policies.support import Analyze, flagged, messages
from tests.support import ComponentRunner

IMDSV2: Any = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}


def _vpcs() -> None:
    closed = aws.ec2.Vpc("closed", cidr_block="10.0.0.0/16")
    aws.ec2.DefaultSecurityGroup("closed-default", vpc_id=closed.id)
    aws.ec2.FlowLog("closed-flow", vpc_id=closed.id, traffic_type="ALL", log_destination="arn:aws:logs:x")
    aws.ec2.Vpc("untouched", cidr_block="10.1.0.0/16")
    open_default = aws.ec2.Vpc("open-default", cidr_block="10.2.0.0/16")
    aws.ec2.DefaultSecurityGroup(
        "open-default-sg",
        vpc_id=open_default.id,
        ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "self": True}],
    )
    accepts = aws.ec2.Vpc("accepted-only", cidr_block="10.3.0.0/16")
    aws.ec2.DefaultSecurityGroup("accepted-only-default", vpc_id=accepts.id)
    aws.ec2.FlowLog("accepted-only-flow", vpc_id=accepts.id, traffic_type="ACCEPT", log_destination="arn:aws:logs:x")
    aws.ec2.Subnet("private", vpc_id=closed.id, cidr_block="10.0.1.0/24")
    aws.ec2.Subnet("public-ips", vpc_id=closed.id, cidr_block="10.0.2.0/24", map_public_ip_on_launch=True)
    group = aws.ec2.SecurityGroup("described", vpc_id=closed.id, description="App tasks: HTTPS out")
    aws.ec2.SecurityGroup("undescribed", vpc_id=closed.id)
    aws.vpc.SecurityGroupEgressRule(
        "https-out",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
        description="HTTPS to AWS APIs through NAT",
    )
    aws.vpc.SecurityGroupEgressRule(
        "everything-out", security_group_id=group.id, ip_protocol="-1", cidr_ipv4="0.0.0.0/0", description="all"
    )
    aws.vpc.SecurityGroupEgressRule(
        "silent-rule",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=5432,
        to_port=5432,
        referenced_security_group_id="sg-0db",
    )
    aws.ec2.SecurityGroupRule(
        "legacy-everything-out",
        type="egress",
        security_group_id="sg-1",
        protocol="-1",
        from_port=0,
        to_port=0,
        ipv6_cidr_blocks=["::/0"],
        description="legacy",
    )
    aws.ec2.SecurityGroup(
        "inline-everything-out",
        vpc_id=closed.id,
        description="inline",
        egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"], "description": "all"}],
    )


def test_default_security_groups_are_adopted_and_empty(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_vpcs))
    assert flagged(report, "vpc-default-security-group-closed") == {"untouched", "open-default-sg"}


def test_every_vpc_logs_its_flows(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_vpcs))
    assert flagged(report, "vpc-flow-logs") == {"untouched", "open-default", "accepted-only"}


def test_subnets_egress_and_descriptions(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_vpcs))
    assert flagged(report, "subnet-no-auto-public-ip") == {"public-ips"}
    assert flagged(report, "sg-no-unrestricted-egress") == {
        "everything-out",
        "legacy-everything-out",
        "inline-everything-out",
    }
    assert flagged(report, "sg-descriptions") == {"undescribed", "silent-rule"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _template(name: str, **overrides: Any) -> aws.ec2.LaunchTemplate:
    args: dict[str, Any] = {
        "image_id": "ami-0123456789abcdef0",
        "instance_type": "t4g.small",
        "metadata_options": IMDSV2,
        "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "volume_size": 20}}],
        "user_data": _b64("#!/bin/sh\nTOKEN=$(curl -X PUT http://169.254.169.254/latest/api/token)\n"),
        **overrides,
    }
    return aws.ec2.LaunchTemplate(name, **args)


def _compute() -> None:
    _template("hardened")
    _template("imdsv1", metadata_options={"http_endpoint": "enabled", "http_tokens": "optional"})
    _template("imds-default", metadata_options=None)
    _template("two-hops", metadata_options={**IMDSV2, "http_put_response_hop_limit": 2})
    _template("plain-disk", block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"volume_size": 20}}])
    _template("public-nic", network_interfaces=[{"associate_public_ip_address": "true"}])
    _template("key-in-user-data", user_data=_b64("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"))
    _template("password-in-user-data", user_data=_b64("#!/bin/sh\necho 'db_password=Sup3rS3cretValue' > /etc/app\n"))
    aws.ec2.Instance(
        "legacy-instance",
        ami="ami-0123456789abcdef0",
        instance_type="t3.micro",
        associate_public_ip_address=True,
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=False),
        user_data="#!/bin/sh\nexport PASSWORD=hunter2hunter2\n",
    )
    aws.ec2.Instance(
        "good-instance",
        ami="ami-0123456789abcdef0",
        instance_type="t3.micro",
        metadata_options=IMDSV2,
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True),
    )
    aws.ebs.Volume("plain-volume", availability_zone="eu-west-1a", size=10)
    aws.ebs.Volume("encrypted-volume", availability_zone="eu-west-1a", size=10, encrypted=True)


def test_metadata_requires_imdsv2_tokens(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_compute))
    assert flagged(report, "ec2-imdsv2") == {"imdsv1", "imds-default", "two-hops", "legacy-instance"}


def test_volumes_are_encrypted_and_instances_private(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_compute))
    assert flagged(report, "ec2-ebs-encrypted") == {"plain-disk", "legacy-instance", "plain-volume"}
    assert flagged(report, "ec2-no-public-ip") == {"public-nic", "legacy-instance"}


def test_user_data_holds_no_credentials_and_never_echoes_them(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_compute))
    assert flagged(report, "ec2-no-secrets-in-user-data") == {
        "key-in-user-data",
        "password-in-user-data",
        "legacy-instance",
    }
    shown = " ".join(
        m
        for name in ("key-in-user-data", "legacy-instance")
        for m in messages(report, "ec2-no-secrets-in-user-data", name)
    )
    assert "AKIA" not in shown
    assert "hunter2" not in shown


def test_albs_mitigate_http_desync(run_component: ComponentRunner, analyze: Analyze) -> None:
    def program() -> None:
        alb("defensive")
        alb("strictest", desync_mitigation_mode="strictest")
        alb("monitor", desync_mitigation_mode="monitor")

    report = analyze(run_component(program))
    assert flagged(report, "alb-desync-mitigation") == {"monitor"}
