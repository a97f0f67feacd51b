"""Cloud Map (``aws:servicediscovery/...``): private DNS namespaces and services."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid
from mockcloud.registry import Outputs, outputs


@outputs("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
def _namespace(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    ns_id = f"ns-{hexid(name, 16)}"
    return ns_id, {
        "arn": cloud.arn("servicediscovery", f"namespace/{ns_id}"),
        "hostedZone": f"Z{hexid(name + 'zone', 20).upper()}",
        "name": inputs.get("name") or name,
    }


@outputs("aws:servicediscovery/service:Service")
def _discovery_service(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    srv_id = f"srv-{hexid(name, 16)}"
    return srv_id, {"arn": cloud.arn("servicediscovery", f"service/{srv_id}"), "name": inputs.get("name") or name}
