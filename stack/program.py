"""Builds the platform from validated settings. Lives in a function so one process can run many stacks."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.network import AdoptedVpc, Network, NetworkArgs
from stack import exports
from stack.settings import ConfigError, StackSettings


def _availability_zones(settings: StackSettings) -> list[str]:
    # A plain (synchronous) invoke on purpose: the AZ count decides how many subnets, NAT gateways
    # and endpoints exist, and structure must never hang off an Output.
    zones = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    names = sorted(zones.names)
    wanted = settings.network.az_count
    if wanted > len(names):
        raise ConfigError(
            f"{settings.project}:azCount",
            wanted,
            f"at most {len(names)} (the region's AZs: {', '.join(names)})",
        )
    return names[:wanted]


def build(settings: StackSettings) -> dict[str, Any]:
    """Create every component for this stack and return the stack outputs by export name."""
    net = settings.network
    context = AwsContext.current()
    network = Network(
        settings.stack,
        NetworkArgs(
            context=context,
            availability_zones=_availability_zones(settings),
            cidr_block=net.cidr,
            nat_gateways=net.nat_gateways,
            vpc_endpoints=net.vpc_endpoints,
            flow_logs=net.flow_logs,
            log_retention_days=settings.log_retention_days,
            adopt=(
                AdoptedVpc(
                    vpc_id=net.existing.vpc_id,
                    public_subnet_ids=net.existing.public_subnet_ids,
                    private_subnet_ids=net.existing.private_subnet_ids,
                    isolated_subnet_ids=net.existing.isolated_subnet_ids,
                )
                if net.existing
                else None
            ),
        ),
    )

    return {
        exports.ENVIRONMENT: settings.environment,
        exports.AVAILABILITY_ZONES: network.availability_zones,
        exports.VPC_ID: network.vpc_id,
        exports.PUBLIC_SUBNET_IDS: network.public_subnet_ids,
        exports.PRIVATE_SUBNET_IDS: network.private_subnet_ids,
        exports.ISOLATED_SUBNET_IDS: network.isolated_subnet_ids,
        exports.NAT_GATEWAY_COUNT: len(network.nat_gateway_ids),
    }


def main() -> None:
    """Entry point used by __main__.py: settings first (fail before anything exists), then build."""
    from stack.settings import load_settings

    for name, value in build(load_settings()).items():
        pulumi.export(name, value)
