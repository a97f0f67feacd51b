"""Elastic Load Balancing v2 (``aws:lb/...``): load balancers (application, network, gateway), target
groups, listeners, rules.

ARNs follow ELB's shapes: ``loadbalancer/app/<name>/<16 hex>``, ``targetgroup/<name>/<16 hex>``,
``listener/app/<lb>/<lb id>/<16 hex>``, ``listener-rule/app/<lb>/<lb id>/<listener id>/<16 hex>``;
``arnSuffix`` is what CloudWatch dimensions and the ALBRequestCountPerTarget label use.
"""

from __future__ import annotations

from typing import Any, Final

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import Outputs, outputs

_KIND: Final = {"application": "app", "network": "net", "gateway": "gwy"}
# ELB's canonical hosted zone IDs (for Route 53 alias records) in the regions the stacks use.
_ZONE_IDS: Final = {
    ("eu-west-1", "app"): "Z32O12XQLNTSW2",
    ("eu-west-1", "net"): "Z2IFOLAFXWLO4F",
    ("us-east-1", "app"): "Z35SXDOTRQ7X7K",
    ("us-east-1", "net"): "Z26RNL4JYFTOTI",
}


def _id16(name: str) -> str:
    return hexid(name, 16)


def _lb_suffix_of(arn: object, fallback: str) -> str:
    text = str(arn or "")
    return text.split(":loadbalancer/", 1)[1] if ":loadbalancer/" in text else fallback


@outputs("aws:lb/loadBalancer:LoadBalancer")
def _load_balancer(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    kind = _KIND.get(str(inputs.get("loadBalancerType") or "application"), "app")
    lb_name = physical_name(name, inputs, max_length=32)
    suffix = f"{kind}/{lb_name}/{_id16(name)}"
    arn = cloud.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    internal = bool(inputs.get("internal"))
    if kind == "app":
        number = int(hexid(name, 8), 16) % 10**10
        dns = f"{'internal-' if internal else ''}{lb_name}-{number}.{cloud.region}.elb.amazonaws.com"
    elif kind == "net":
        dns = f"{lb_name}-{_id16(name)}.elb.{cloud.region}.amazonaws.com"
    else:
        dns = ""  # a Gateway Load Balancer has no DNS name: traffic reaches it through endpoints
    return arn, {
        "arn": arn,
        "arnSuffix": suffix,
        "name": lb_name,
        "dnsName": dns,
        "zoneId": _ZONE_IDS.get((cloud.region, kind), f"Z{hexid(kind + cloud.region, 13).upper()}"),
        "vpcId": inputs.get("vpcId") or "",
        "idleTimeout": inputs.get("idleTimeout", 60 if kind == "app" else None),
    }


@outputs("aws:lb/targetGroup:TargetGroup")
def _target_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    tg_name = physical_name(name, inputs, max_length=32)
    suffix = f"targetgroup/{tg_name}/{_id16(name)}"
    arn = cloud.arn("elasticloadbalancing", suffix)
    return arn, {"arn": arn, "arnSuffix": suffix, "name": tg_name, "loadBalancerArns": []}


@outputs("aws:lb/listener:Listener")
def _listener(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    lb_suffix = _lb_suffix_of(inputs.get("loadBalancerArn"), f"app/unknown/{_id16(name + 'lb')}")
    arn = cloud.arn("elasticloadbalancing", f"listener/{lb_suffix}/{_id16(name)}")
    return arn, {"arn": arn}


@outputs("aws:lb/listenerRule:ListenerRule")
def _listener_rule(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    listener = str(inputs.get("listenerArn") or "")
    path = listener.split(":listener/", 1)[1] if ":listener/" in listener else f"app/unknown/{_id16(name)}/0"
    arn = cloud.arn("elasticloadbalancing", f"listener-rule/{path}/{_id16(name)}")
    return arn, {"arn": arn}


@outputs("aws:lb/targetGroupAttachment:TargetGroupAttachment")
def _target_group_attachment(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('targetGroupArn', 'tg')}-{hexid(name, 20)}", {}
