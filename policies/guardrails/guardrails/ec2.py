"""EC2 and VPC: closed default security groups, flow logs, no public IPs by default, bounded egress,
documented rules, and instances/launch templates with IMDSv2, encrypted EBS and no secrets in user data."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .ecs import secret_looking
from .props import as_list, as_mapping, is_set, iter_mappings, number
from .rules import Report, StackView, referenced, resource_policy, stack_policy

ANY_CIDRS: Final = frozenset({"0.0.0.0/0", "::/0"})
ALL_PROTOCOLS: Final = frozenset({"-1", "all"})
# The AWS provider's default description when none is given.
DEFAULT_SG_DESCRIPTION: Final = "Managed by Pulumi"
MAX_HOP_LIMIT: Final = 1
_CREDENTIAL_ASSIGNMENT: Final = re.compile(
    r"(aws_secret_access_key|aws_session_token|password|passwd|secret|token)\s*[=:]\s*['\"]?[^\s'\"$]{8,}",
    re.IGNORECASE,
)


# -- VPC --------------------------------------------------------------------------------------------
def _attached(view: StackView, vpc: PolicyResource, types: str) -> list[PolicyResource]:
    return [r for r in view.of_type(types) if vpc.urn in referenced(r, "vpcId", [vpc])]


def _default_sg_closed(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for vpc in view.of_type(t.VPC):
        with view.reading(vpc):
            defaults = _attached(view, vpc, t.DEFAULT_SECURITY_GROUP)
            if not defaults:
                report(
                    f"VPC {vpc.name}: its default security group keeps AWS's rules (all traffic between members, all "
                    "egress); adopt it with aws.ec2.DefaultSecurityGroup and no rules.",
                    vpc.urn,
                )
    for group in view.of_type(t.DEFAULT_SECURITY_GROUP):
        with view.reading(group):
            if as_list(group.props.get("ingress")) or as_list(group.props.get("egress")):
                report(f"Default security group {group.name} has rules; leave it empty.", group.urn)


def _flow_logs(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for vpc in view.of_type(t.VPC):
        with view.reading(vpc):
            logs = _attached(view, vpc, t.FLOW_LOG)
            if not logs:
                report(f"VPC {vpc.name} has no flow log: rejected and accepted traffic leaves no record.", vpc.urn)
            elif not any(f.props.get("trafficType") in ("ALL", "REJECT") for f in logs):
                report(f"VPC {vpc.name}: no flow log records ALL or REJECT traffic.", vpc.urn)


def _subnet_public_ip(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("mapPublicIpOnLaunch") is True:
        report(
            "mapPublicIpOnLaunch=true gives every instance launched here a public IP; put NAT or a load balancer "
            "in front."
        )


# -- security groups --------------------------------------------------------------------------------
def _all_traffic(protocol: Any) -> bool:
    return str(protocol).lower() in ALL_PROTOCOLS


def _cidrs(props: Mapping[str, Any], *keys: str) -> list[str]:
    found: list[str] = []
    for key in keys:
        if is_set(props, key):
            value = props[key]
            found.extend([value] if isinstance(value, str) else [str(v) for v in as_list(value)])
    return found


def _unrestricted_egress(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    if args.resource_type == t.SECURITY_GROUP_EGRESS_RULE:
        if _all_traffic(props.get("ipProtocol")) and set(_cidrs(props, "cidrIpv4", "cidrIpv6")) & ANY_CIDRS:
            report("Egress of all protocols and ports to the internet: a compromised task can reach anything.")
        return
    if args.resource_type == t.SECURITY_GROUP_RULE:
        egress = props.get("type") == "egress" and _all_traffic(props.get("protocol"))
        if egress and set(_cidrs(props, "cidrBlocks", "ipv6CidrBlocks")) & ANY_CIDRS:
            report("Egress of all protocols and ports to the internet: a compromised task can reach anything.")
        return
    for block in iter_mappings(props.get("egress")):
        if _all_traffic(block.get("protocol")) and set(_cidrs(block, "cidrBlocks", "ipv6CidrBlocks")) & ANY_CIDRS:
            report(
                "Inline egress of all protocols and ports to the internet; allow the ports and peers the workload uses."
            )


def _descriptions(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    if args.resource_type == t.SECURITY_GROUP:
        description = props.get("description", DEFAULT_SG_DESCRIPTION)
        if not isinstance(description, str) or not description.strip() or description == DEFAULT_SG_DESCRIPTION:
            report("The security group has no description of what it admits (only the provider's default).")
        for kind in ("ingress", "egress"):
            for index, block in enumerate(iter_mappings(props.get(kind))):
                if not str(block.get("description") or "").strip():
                    report(f"Inline {kind} rule #{index + 1} has no description.")
        return
    if not is_set(props, "description") or not str(props["description"]).strip():
        report("The rule has no description: reviewers cannot tell why the traffic is allowed.")


# -- instances and launch templates -----------------------------------------------------------------
def _imdsv2(args: ResourceValidationArgs, report: Report) -> None:
    options = as_mapping(args.props.get("metadataOptions"))
    if options.get("httpEndpoint") == "disabled":
        return
    if options.get("httpTokens") != "required":
        report(
            "metadataOptions.httpTokens is not 'required': IMDSv1 answers unauthenticated GETs, so an SSRF in the "
            "instance's software leaks its role credentials."
        )
    hops = number(options.get("httpPutResponseHopLimit"))
    if hops is not None and hops > MAX_HOP_LIMIT:
        report(f"metadataOptions.httpPutResponseHopLimit={hops:g}: containers on the instance can reach IMDS (use 1).")


def _encrypted(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _ebs_encrypted(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    if args.resource_type == t.EBS_VOLUME:
        if not _encrypted(props.get("encrypted")):
            report("The EBS volume is not encrypted: its data and snapshots are readable by whoever gets a copy.")
        return
    if args.resource_type == t.LAUNCH_TEMPLATE:
        for mapping in iter_mappings(props.get("blockDeviceMappings")):
            ebs = as_mapping(mapping.get("ebs"))
            if ebs and not _encrypted(ebs.get("encrypted")) and not is_set(ebs, "snapshotId"):
                report(f"Block device {mapping.get('deviceName')!r} is not encrypted (ebs.encrypted='true').")
        return
    root = as_mapping(props.get("rootBlockDevice"))
    if root and not _encrypted(root.get("encrypted")):
        report("rootBlockDevice.encrypted is not true.")
    for device in iter_mappings(props.get("ebsBlockDevices")):
        if not _encrypted(device.get("encrypted")):
            report(f"EBS block device {device.get('deviceName')!r} is not encrypted.")


def _no_public_ip(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    if args.resource_type == t.EC2_INSTANCE:
        if props.get("associatePublicIpAddress") is True:
            report("associatePublicIpAddress=true puts the instance on the internet.")
        return
    for interface in iter_mappings(props.get("networkInterfaces")):
        if _encrypted(interface.get("associatePublicIpAddress")):
            report("A network interface sets associatePublicIpAddress: instances get a public IP.")


def _user_data_text(props: Mapping[str, Any], resource_type: str) -> str:
    encoded = props.get("userDataBase64") if resource_type == t.EC2_INSTANCE else props.get("userData")
    plain = props.get("userData") if resource_type == t.EC2_INSTANCE else None
    text = plain if isinstance(plain, str) else ""
    if isinstance(encoded, str):
        try:
            text += "\n" + base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            text += "\n" + encoded
    return text


def _no_secrets_in_user_data(args: ResourceValidationArgs, report: Report) -> None:
    text = _user_data_text(args.props, args.resource_type)
    if not text.strip():
        return
    if secret_looking("", text) or _CREDENTIAL_ASSIGNMENT.search(text):
        # Never echo the value: the report ends up in CI logs.
        report(
            "User data contains what looks like a credential (an access key, private key or a password "
            "assignment): anyone who can describe the instance reads it. Fetch it at boot from Secrets Manager."
        )


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    compute = [t.EC2_INSTANCE, t.LAUNCH_TEMPLATE]
    return [
        stack_policy(
            name="vpc-default-security-group-closed",
            description="Every VPC's default security group is adopted and has no rules.",
            check=_default_sg_closed,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id) with no ingress or egress.",
        ),
        stack_policy(
            name="vpc-flow-logs",
            description="Every VPC has a flow log recording ALL (or REJECT) traffic.",
            check=_flow_logs,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="aws.ec2.FlowLog(vpc_id=..., traffic_type='ALL', log_destination=<log group>) "
            "(the stack's flowLogs setting).",
        ),
        resource_policy(
            name="subnet-no-auto-public-ip",
            description="Subnets do not give instances public IPs by default.",
            types=[t.SUBNET],
            check=_subnet_public_ip,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="mapPublicIpOnLaunch=false (the default).",
        ),
        resource_policy(
            name="sg-no-unrestricted-egress",
            description="No security group allows all protocols and ports out to 0.0.0.0/0 or ::/0.",
            types=[t.SECURITY_GROUP, t.SECURITY_GROUP_RULE, t.SECURITY_GROUP_EGRESS_RULE],
            check=_unrestricted_egress,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="Egress to the peers' security groups, VPC endpoints or prefix lists on the ports used "
            "(e.g. TCP 443).",
        ),
        resource_policy(
            name="sg-descriptions",
            description="Security groups and their rules say what they allow (a description).",
            types=[
                t.SECURITY_GROUP,
                t.SECURITY_GROUP_RULE,
                t.SECURITY_GROUP_INGRESS_RULE,
                t.SECURITY_GROUP_EGRESS_RULE,
            ],
            check=_descriptions,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="description='<who> to <what> on <port>' on the group and every rule.",
        ),
        resource_policy(
            name="ec2-imdsv2",
            description="Instances and launch templates require IMDSv2 tokens with a hop limit of 1.",
            types=compute,
            check=_imdsv2,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="metadataOptions={httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1}",
        ),
        resource_policy(
            name="ec2-ebs-encrypted",
            description="EBS volumes (standalone, instance and launch template block devices) are encrypted.",
            types=[*compute, t.EBS_VOLUME],
            check=_ebs_encrypted,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="encrypted=true (launch templates: ebs.encrypted='true'), optionally with kmsKeyId.",
        ),
        resource_policy(
            name="ec2-no-public-ip",
            description="Instances and launch templates do not assign public IPs.",
            types=compute,
            check=_no_public_ip,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="associatePublicIpAddress=false in private subnets behind NAT or a load balancer.",
        ),
        resource_policy(
            name="ec2-no-secrets-in-user-data",
            description="Instance and launch template user data holds no credentials.",
            types=compute,
            check=_no_secrets_in_user_data,
            enforcement=mandatory,
            severity=Severity.CRITICAL,
            remediation="Read secrets at boot from Secrets Manager or SSM with the instance role.",
        ),
    ]
