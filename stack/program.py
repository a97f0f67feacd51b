"""Builds the platform from validated settings. Lives in a function so one process can run many stacks."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs
from components.gateway_load_balancer import GatewayLoadBalancer, GatewayLoadBalancerArgs
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


def _physical_id(settings: StackSettings, max_length: int) -> str:
    """``<project>-<stack>`` as AWS identifiers want it: lowercase letters, digits, single hyphens."""
    text = re.sub(r"[^a-z0-9]+", "-", f"{settings.project}-{settings.stack}".lower()).strip("-")
    return text[:max_length].rstrip("-")


def _data_stores(settings: StackSettings, network: Network) -> tuple[Cache, Database]:
    """ElastiCache and RDS in the isolated subnets; their security groups start empty (clients add rules)."""
    cache, db = settings.cache, settings.database
    cache_store = Cache(
        f"{settings.stack}-cache",
        CacheArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            availability_zones=network.availability_zones,
            identifier=_physical_id(settings, 40),
            engine=cache.engine,
            engine_version=cache.engine_version,
            node_type=cache.node_type,
            cluster_mode=cache.cluster_mode,
            shards=cache.shards,
            replicas=cache.replicas,
            memcached_nodes=cache.memcached_nodes,
            eviction_policy=cache.eviction_policy,
            reserved_memory_percent=cache.reserved_memory_percent,
            snapshot_retention_days=cache.snapshot_retention_days,
            snapshot_window=cache.snapshot_window,
            maintenance_window=cache.maintenance_window,
            final_snapshot=settings.deletion_protection and cache.engine != "memcached",
            kms_key_arn=cache.kms_key_arn,
            log_retention_days=settings.log_retention_days,
            alarm_topic_arn=cache.alarm_topic_arn,
            protect=settings.deletion_protection,
            apply_immediately=not settings.is_prod,
        ),
    )
    database = Database(
        f"{settings.stack}-db",
        DatabaseArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            identifier=_physical_id(settings, 63),
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage_gb=db.allocated_storage_gb,
            max_allocated_storage_gb=db.max_allocated_storage_gb,
            multi_az=db.multi_az,
            database_name=db.database_name,
            username=db.username,
            backup_retention_days=db.backup_retention_days,
            backup_window=db.backup_window,
            maintenance_window=db.maintenance_window,
            deletion_protection=settings.deletion_protection,
            performance_insights=db.performance_insights,
            kms_key_arn=db.kms_key_arn,
            log_min_duration_ms=db.log_min_duration_ms,
            log_retention_days=settings.log_retention_days,
            alarm_topic_arn=db.alarm_topic_arn,
            apply_immediately=not settings.is_prod,
        ),
    )
    return cache_store, database


def _inspection(settings: StackSettings, context: AwsContext, network: Network) -> GatewayLoadBalancer | None:
    """Appliances behind a GWLB in their own VPC, and the app VPC's internet routes through its endpoints."""
    gwlb = settings.gwlb
    if not gwlb.enabled:
        return None
    # Guaranteed by the settings (an AMI or IPs) and by NetworkArgs(inspection=True).
    assert gwlb.appliances is not None
    assert network.inspection is not None
    inspection_vpc = Network(
        f"{settings.stack}-inspection",
        NetworkArgs(
            context=context,
            availability_zones=network.availability_zones,  # a GWLB node in every AZ the app uses
            cidr_block=gwlb.inspection_vpc_cidr,
            nat_gateways=settings.network.nat_gateways,  # appliances fetch signatures and licences
            vpc_endpoints=False,
            flow_logs=settings.network.flow_logs,
            log_retention_days=settings.log_retention_days,
        ),
    )
    return GatewayLoadBalancer(
        f"{settings.stack}-gwlb",
        GatewayLoadBalancerArgs(
            context=context,
            appliance_vpc_id=inspection_vpc.vpc_id,
            appliance_vpc_cidr=gwlb.inspection_vpc_cidr,
            appliance_subnet_ids=inspection_vpc.private_subnet_ids,
            appliance_availability_zones=inspection_vpc.availability_zones,
            app_vpc_id=network.vpc_id,
            app_routing=network.inspection,
            appliances=gwlb.appliances,
            health_check=gwlb.health_check,
            target_failover=gwlb.target_failover,
            allowed_principals=gwlb.allowed_principals,
            deletion_protection=settings.deletion_protection,
        ),
    )


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
            # With inspection on, the public subnets' routes go through the GWLB endpoints (_inspection).
            inspection=settings.gwlb.enabled,
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

    cache, database = _data_stores(settings, network)
    inspection = _inspection(settings, context, network)

    return {
        exports.ENVIRONMENT: settings.environment,
        exports.AVAILABILITY_ZONES: network.availability_zones,
        exports.VPC_ID: network.vpc_id,
        exports.PUBLIC_SUBNET_IDS: network.public_subnet_ids,
        exports.PRIVATE_SUBNET_IDS: network.private_subnet_ids,
        exports.ISOLATED_SUBNET_IDS: network.isolated_subnet_ids,
        exports.NAT_GATEWAY_COUNT: len(network.nat_gateway_ids),
        exports.INSPECTION_ENDPOINT_SERVICE_NAME: inspection.endpoint_service_name if inspection else None,
        exports.INSPECTION_ENDPOINT_IDS: inspection.endpoint_ids if inspection else None,
        exports.CACHE_ENGINE: cache.engine,
        exports.CACHE_ENGINE_VERSION: cache.engine_version,
        exports.CACHE_PRIMARY_ENDPOINT: cache.primary_endpoint,
        exports.CACHE_READER_ENDPOINT: cache.reader_endpoint,
        exports.CACHE_PORT: cache.port,
        exports.CACHE_TLS: cache.tls_enabled,
        exports.CACHE_CLUSTER_MODE: cache.cluster_mode,
        exports.CACHE_AUTH_SECRET_ARN: cache.auth_secret_arn,
        exports.CACHE_SECURITY_GROUP_ID: cache.security_group_id,
        exports.DATABASE_ENDPOINT: database.endpoint,
        exports.DATABASE_PORT: database.port,
        exports.DATABASE_NAME: database.database_name,
        exports.DATABASE_USERNAME: database.username,
        exports.DATABASE_SECRET_ARN: database.secret_arn,
        exports.DATABASE_SECURITY_GROUP_ID: database.security_group_id,
    }


def main() -> None:
    """Entry point used by __main__.py: settings first (fail before anything exists), then build."""
    from stack.settings import load_settings

    for name, value in build(load_settings()).items():
        pulumi.export(name, value)
