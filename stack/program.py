"""Builds the platform from validated settings. Lives in a function so one process can run many stacks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.cache import Cache, CacheArgs, CacheSpec
from components.certificate import Certificate
from components.dashboard import CacheEngine, DashboardCache, StackDashboard, StackDashboardArgs
from components.database import Database, DatabaseArgs
from components.ecs_cluster import EcsCluster, EcsClusterArgs
from components.edge_alarms import EdgeAlarms, EdgeAlarmsArgs, MonitoredService
from components.fargate_service import (
    CloudMapRegistration,
    CpuArchitecture,
    Dependency,
    ExecAccess,
    FargateService,
    FargateServiceArgs,
    HttpsEgress,
    LoadBalancerAttachment,
    SecretRef,
)
from components.gateway_load_balancer import GatewayLoadBalancer, GatewayLoadBalancerArgs
from components.image import Image, ImageArgs
from components.kms_keys import DATA_CLASSES, DataClass, DataKeys, DataKeysArgs, KeyArns, check_alias_prefix, key_alias
from components.load_balancer import HealthCheck, LoadBalancer, LoadBalancerArgs, RoutingRule, TargetGroupSpec
from components.memcached import MemcachedArgs, MemcachedCluster
from components.network import INTERFACE_ENDPOINT_SERVICES, Network, NetworkArgs
from components.network_load_balancer import AlbListener, NetworkLoadBalancer, NetworkLoadBalancerArgs, alb_front_door
from components.registry import Registry, RegistryArgs
from components.service_dns import AliasTarget, ServiceDns, ServiceDnsArgs, ServiceHost
from components.web_acl import WebAcl, WebAclArgs
from stack import exports
from stack.settings import STATIC_IP_HOST, ConfigError, StackSettings, physical_id

APP_PORT: Final = 8080
"""Port the app listens on in its container (``PORT``)."""


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
    return physical_id(settings.project, settings.stack, max_length)


def _registry_outputs(registry: Registry, args: RegistryArgs) -> dict[str, Any]:
    """The ``registrySettings`` export: what this stack configured in ECR (plain values where possible)."""
    wide = args.registry_settings
    return {
        "ownsRegistrySettings": registry.owns_registry_settings,
        "scanType": registry.scan_type,
        "scanFrequency": registry.scan_frequency,
        "scanFilters": list(wide.scan_filters) if wide else None,
        "replicationDestinations": [
            {"region": d.region, "registryId": d.account_id or registry.registry_id}
            for d in (wide.replication_destinations if wide else ())
        ],
        "replicationFilters": list(wide.replication_filters) if wide else [],
        "repositories": list(registry.repository_names.values()),
        "tagMutability": registry.tag_mutability,
        "buildCacheTag": registry.build_cache_tag,
        "encryption": args.kms_key,
        "kmsKeyArn": registry.kms_key_arn,
    }


CacheStore = Cache | MemcachedCluster


def _data_stores(
    settings: StackSettings, context: AwsContext, network: Network, keys: KeyArns | None
) -> tuple[CacheStore, Database]:
    """ElastiCache and RDS in the isolated subnets; their security groups start empty (clients add rules)."""
    name, vpc, subnets, zones = (
        f"{settings.stack}-cache",
        network.vpc_id,
        network.isolated_subnet_ids,
        network.availability_zones,
    )
    cache: CacheStore = (
        Cache(
            name,
            CacheArgs(
                context=context,
                vpc_id=vpc,
                subnet_ids=subnets,
                availability_zones=zones,
                spec=settings.cache,
                keys=keys,
            ),
        )
        if isinstance(settings.cache, CacheSpec)
        else MemcachedCluster(
            name, MemcachedArgs(vpc_id=vpc, subnet_ids=subnets, availability_zones=zones, spec=settings.cache)
        )
    )
    database = Database(
        f"{settings.stack}-db",
        DatabaseArgs(
            context=context,
            vpc_id=network.vpc_id,
            subnet_ids=network.isolated_subnet_ids,
            spec=settings.database,
            keys=keys,
        ),
    )
    return cache, database


@dataclass(frozen=True)
class DataStoreConnection:
    """What a Fargate service of the catalog app needs to use the cache and the database.

    Plain environment holds only hosts, ports, flags and how to authenticate; the database password
    is an ECS secret (the service grants its execution role exactly that secret and its key), given
    only to the service that runs the migrations when the app itself logs in with IAM. What the app
    does with its own role (``rds-db:connect``, ``elasticache:Connect``, reading the cache's rotated
    AUTH token) is in ``task_policies``. The dependencies make the service add the security-group rules
    on both sides.
    """

    environment: dict[str, pulumi.Input[str]]
    secrets: dict[str, SecretRef]
    """For every service."""
    migration_secrets: dict[str, SecretRef]
    """Only for the service that runs the migrations (the master password, with IAM authentication)."""
    secret_kms_key_arns: list[str]
    task_policies: dict[str, list[dict[str, Any]]]
    dependencies: list[Dependency]
    reads_secrets_at_runtime: bool = field(default=False)
    """The app reads a secret itself (the cache's rotated token): its task role must decrypt it."""

    def secrets_for(self, *, runs_migrations: bool) -> dict[str, SecretRef]:
        return {**self.secrets, **(self.migration_secrets if runs_migrations else {})}


def data_store_connection(cache: CacheStore, database: Database, region: str) -> DataStoreConnection:
    """The app's env contract (DATABASE_*, REDIS_* or MEMCACHED_*, AWS_REGION; app/README.md)."""
    environment: dict[str, pulumi.Input[str]] = {
        "AWS_REGION": region,  # IAM tokens are signed for this region
        "DATABASE_HOST": database.endpoint,
        "DATABASE_PORT": str(database.port),
        "DATABASE_NAME": database.database_name,
        "DATABASE_USER": database.username,
        "DATABASE_SSL": "true",  # the parameter group sets rds.force_ssl=1
        "DATABASE_AUTH": "iam" if database.iam_auth else "password",
    }
    password = {"DATABASE_PASSWORD": SecretRef(arn=database.secret_arn, json_key="password")}
    secrets: dict[str, SecretRef] = {}
    migration_secrets: dict[str, SecretRef] = {}
    task_policies: dict[str, list[dict[str, Any]]] = {}
    if database.iam_auth:
        environment["DATABASE_APP_USER"] = database.app_username
        migration_secrets |= password  # the migrations run as the master user (and create the app user)
        task_policies["database"] = database.client_policy_statements
    else:
        secrets |= password
    dependencies = [Dependency(database.security_group_id, database.port, "PostgreSQL (TLS)")]
    keys = [database.secret_kms_key_arn]
    reads_secrets = False
    if isinstance(cache, Cache):
        environment |= {
            "REDIS_HOST": cache.primary_endpoint,
            "REDIS_PORT": str(cache.port),
            "REDIS_TLS": "true" if cache.tls_enabled else "false",
            "REDIS_CLUSTER_MODE": "true" if cache.cluster_mode else "false",
            "REDIS_AUTH": cache.auth_mode,
        }
        if cache.auth_mode == "iam":
            assert cache.iam_user_id is not None
            environment |= {"REDIS_USER": cache.iam_user_id, "REDIS_CACHE_NAME": cache.replication_group_id}
        else:
            # Rotated: the app reads the current token from the secret (and again when AUTH fails), so a
            # rotation needs no restart; an ECS secret would be the value at start only.
            assert cache.auth_secret_arn is not None
            environment["REDIS_AUTH_SECRET_ARN"] = cache.auth_secret_arn
            reads_secrets = True
        task_policies["cache"] = cache.client_policy_statements
        dependencies.append(Dependency(cache.security_group_id, cache.port, f"{cache.engine} (TLS)"))
    else:
        # Memcached has no AUTH: the security group is its only access control. The app shards over
        # the nodes it finds through the configuration endpoint (auto discovery).
        environment |= {
            "CACHE_BACKEND": "memcached",
            "MEMCACHED_HOST": cache.configuration_endpoint,
            "MEMCACHED_PORT": str(cache.port),
            "MEMCACHED_TLS": "true" if cache.tls_enabled else "false",
            "MEMCACHED_AUTODISCOVERY": "true",
        }
        dependencies.append(Dependency(cache.security_group_id, cache.port, "memcached"))
    return DataStoreConnection(
        environment=environment,
        secrets=secrets,
        migration_secrets=migration_secrets,
        secret_kms_key_arns=sorted({key for key in keys if key}),
        task_policies=task_policies,
        dependencies=dependencies,
        reads_secrets_at_runtime=reads_secrets,
    )


def _cache_outputs(cache: CacheStore) -> dict[str, Any]:
    """The cache exports; Memcached has one endpoint (configuration), no cluster protocol and no AUTH."""
    if isinstance(cache, Cache):
        primary, reader, cluster_mode, secret = (
            cache.primary_endpoint,
            cache.reader_endpoint,
            cache.cluster_mode,
            cache.auth_secret_arn,
        )
    else:
        primary, reader, cluster_mode, secret = cache.configuration_endpoint, cache.configuration_endpoint, False, None
    return {
        exports.CACHE_AUTH: cache.auth_mode if isinstance(cache, Cache) else "none",
        exports.CACHE_ENGINE: cache.engine,
        exports.CACHE_ENGINE_VERSION: cache.engine_version,
        exports.CACHE_PRIMARY_ENDPOINT: primary,
        exports.CACHE_READER_ENDPOINT: reader,
        exports.CACHE_PORT: cache.port,
        exports.CACHE_TLS: cache.tls_enabled,
        exports.CACHE_CLUSTER_MODE: cluster_mode,
        exports.CACHE_AUTH_SECRET_ARN: secret,
        exports.CACHE_SECURITY_GROUP_ID: cache.security_group_id,
    }


def _static_ip_nlb(settings: StackSettings, network: Network, alb: LoadBalancer) -> NetworkLoadBalancer | None:
    """One Elastic IP per AZ in front of the ALB: TCP 80, and 443 when the ALB serves HTTPS (TLS stays on the ALB)."""
    if settings.static_ip_ingress_cidrs is None:
        return None
    alb_listeners = [AlbListener(port=80, protocol="HTTP", arn=alb.http_listener_arn)]
    if alb.https_listener_arn is not None:
        alb_listeners.append(AlbListener(port=443, protocol="HTTPS", arn=alb.https_listener_arn))
    listeners, target_groups = alb_front_door(
        alb_arn=alb.arn, alb_security_group_id=alb.security_group_id, alb_listeners=alb_listeners
    )
    return NetworkLoadBalancer(
        f"{settings.stack}-nlb",
        NetworkLoadBalancerArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            availability_zones=network.availability_zones,
            listeners=listeners,
            target_groups=target_groups,
            ingress_cidrs=settings.static_ip_ingress_cidrs,
            deletion_protection=settings.deletion_protection,
            # Clients allow-list these addresses: in prod, releasing one takes a deliberate unprotect.
            protect_static_ips=settings.deletion_protection,
        ),
    )


def _inspection(
    settings: StackSettings, context: AwsContext, network: Network, keys: KeyArns | None
) -> tuple[GatewayLoadBalancer, Network] | None:
    """Appliances behind a GWLB in their own VPC, and the app VPC's internet routes through its endpoints."""
    spec = settings.inspection
    if spec is None:
        return None
    assert network.inspection is not None  # NetworkArgs(inspection=True) prepared the routes
    inspection_vpc = Network(
        f"{settings.stack}-inspection",
        NetworkArgs(
            context=context,
            availability_zones=network.availability_zones,
            spec=spec.vpc,
            log_kms_key_arn=keys.logs if keys else None,
        ),
    )
    gwlb = GatewayLoadBalancer(
        f"{settings.stack}-gwlb",
        GatewayLoadBalancerArgs(
            context=context,
            appliance_vpc_id=inspection_vpc.vpc_id,
            appliance_subnet_ids=inspection_vpc.private_subnet_ids,
            appliance_availability_zones=inspection_vpc.availability_zones,
            app_vpc_id=network.vpc_id,
            app_routing=network.inspection,
            spec=spec,
            instance_tags=settings.default_tags,
        ),
    )
    return gwlb, inspection_vpc


@dataclass(frozen=True)
class Compute:
    """The ALB, its edge (certificate, web ACL, alarms) and the services behind it."""

    alb: LoadBalancer
    cluster: EcsCluster
    services: dict[str, FargateService]
    monitored: list[MonitoredService]
    certificate: Certificate | None
    web_acl: WebAcl | None
    web_acl_name: str | None
    alarms: EdgeAlarms
    outputs: dict[str, Any]


def _host_headers(settings: StackSettings, role: str) -> list[str]:
    """A service's own host, and the static-IP NLB's name (which reaches the same ALB rules)."""
    hosts = settings.edge.hosts
    return [hosts[key] for key in (role, STATIC_IP_HOST) if key in hosts]


def _compute(
    settings: StackSettings,
    context: AwsContext,
    network: Network,
    image: Image,
    repository_arn: str,
    connection: DataStoreConnection,
    keys: KeyArns | None,
) -> Compute:
    """The ALB, the ECS cluster and the two services built from the one image: the catalog API
    (``SERVICE_ROLE=api``, ``/api/*``) and ops (``SERVICE_ROLE=ops``, ``/ops/*``); in front of the ALB
    its certificate and web ACL, beside the services the alarms their deployments roll back on."""
    stack = settings.stack
    edge = settings.edge
    domain = edge.domain_name
    # Requested and DNS-validated in the zone (or an existing ARN passed through): its ``arn`` is the
    # CertificateValidation's output, so the HTTPS listener is created only once ACM has issued it.
    certificate = Certificate(f"{stack}-cert", edge.certificate) if edge.certificate is not None else None
    alb = LoadBalancer(
        f"{stack}-alb",
        LoadBalancerArgs(
            context=context,
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            target_groups=[
                # Readiness (the database is reachable) routes around a task that lost it; ten failures
                # at 15 s outlast an RDS Multi-AZ failover, so a database-wide event does not make ECS
                # replace every task (docs/load-balancing-and-compute.md).
                TargetGroupSpec(key="api", health_check=HealthCheck(path="/readyz", unhealthy_threshold=10)),
                # The ops endpoints must stay reachable during a database incident: liveness only.
                TargetGroupSpec(key="ops", health_check=HealthCheck(path="/healthz", unhealthy_threshold=3)),
            ],
            rules=[
                RoutingRule(
                    name="api",
                    target="api",
                    path_patterns=["/api/*"],
                    host_headers=_host_headers(settings, "api"),
                ),
                RoutingRule(
                    name="ops",
                    target="ops",
                    path_patterns=["/ops/*"],
                    host_headers=_host_headers(settings, "ops"),
                    source_cidrs=settings.ops_allowed_cidrs,
                ),
            ],
            spec=settings.load_balancer,
            certificate_arn=certificate.arn if certificate is not None else None,
            access_log_bucket_name=f"{_physical_id(settings, 24)}-alb-logs-{context.account_id}-{context.region}",
        ),
    )

    cluster = EcsCluster(
        f"{stack}-ecs",
        EcsClusterArgs(
            context=context, vpc_id=network.vpc_id, spec=settings.cluster, log_kms_key_arn=keys.logs if keys else None
        ),
    )

    web_acl: WebAcl | None = None
    web_acl_name: str | None = None
    if edge.waf is not None:
        web_acl_name = _physical_id(settings, 128)
        web_acl = WebAcl(
            f"{stack}-waf",
            WebAclArgs(
                context=context,
                name=web_acl_name,
                resource_arn=alb.arn,
                spec=edge.waf,
                # The stack's logs key where there is one (its policy admits this log group by name,
                # _log_group_names); else the cluster's key, as for the services' log groups.
                log_kms_key_arn=keys.logs if keys else cluster.exec_kms_key_arn,
            ),
        )

    monitored = [
        MonitoredService(
            key=role,
            cluster_name=cluster.cluster_name,
            service_name=role,
            target_group_arn_suffix=alb.target_group_arn_suffixes[role],
        )
        for role in settings.services
    ]
    # Before the services: each names its rollback alarms, which must exist when it is created.
    alarms = EdgeAlarms(
        f"{stack}-alarms",
        EdgeAlarmsArgs(
            name_prefix=_physical_id(settings, 128),
            load_balancer_arn_suffix=alb.arn_suffix,
            services=monitored,
            thresholds=edge.alarms,
            alarm_topic_arn=edge.alarm_topic_arn,
            container_insights=settings.cluster.container_insights != "disabled",
        ),
    )

    # With interface endpoints, tasks reach ECR, CloudWatch Logs, Secrets Manager and ECS Exec's
    # channels without the internet, and image layers come from S3 through the gateway endpoint (not
    # created in an adopted VPC). ECS Exec's agent also calls KMS, which has no endpoint here, so exec
    # needs HTTPS out through NAT until a kms endpoint is added.
    endpoints = network.endpoint_security_group_id
    s3_gateway = endpoints is not None and settings.network.adopt is None
    needs_internet = not s3_gateway or (settings.ecs_exec and "kms" not in INTERFACE_ENDPOINT_SERVICES)
    egress = HttpsEgress(
        security_group_ids=[endpoints] if endpoints is not None else [],
        prefix_list_ids=(
            [aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{context.region}.s3").id] if s3_gateway else []
        ),
        cidrs=["0.0.0.0/0"] if needs_internet else [],
    )
    execute = (
        ExecAccess(log_group_arn=cluster.exec_log_group_arn, kms_key_alias=cluster.exec_kms_key_alias)
        if settings.ecs_exec
        else None
    )

    services: dict[str, FargateService] = {}
    for role, service in settings.services.items():
        services[role] = FargateService(
            f"{stack}-{role}",
            FargateServiceArgs(
                context=context,
                cluster_arn=cluster.arn,
                cluster_name=cluster.cluster_name,
                service_name=role,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                image=image.image_ref,
                image_repository_arn=repository_arn,
                size=service.size,
                cpu_architecture=cast("CpuArchitecture", image.cpu_architecture),
                container_port=APP_PORT,
                environment={
                    **connection.environment,
                    "APP_ENV": settings.environment,
                    "PORT": str(APP_PORT),
                    "LOG_LEVEL": settings.log_level,
                    "SERVICE_ROLE": role,
                    # The API tasks apply migrations at start (under an advisory lock); ops never does.
                    "RUN_MIGRATIONS": "true" if role == "api" else "false",
                },
                secrets=connection.secrets_for(runs_migrations=role == "api"),
                secret_kms_key_arns=connection.secret_kms_key_arns,
                task_policies=connection.task_policies,
                log_retention_days=settings.log_retention_days,
                log_kms_key_arn=keys.logs if keys else cluster.exec_kms_key_arn,
                load_balancer=LoadBalancerAttachment(
                    security_group_id=alb.security_group_id,
                    target_group_arn=alb.target_group_arns[role],
                    target_group_arn_suffix=alb.target_group_arn_suffixes[role],
                    load_balancer_arn_suffix=alb.arn_suffix,
                ),
                health_check_grace_period_seconds=90 if role == "api" else 60,
                autoscaling=service.autoscaling,
                capacity_provider_strategy=cluster.capacity_provider_strategy,
                dependencies=connection.dependencies,
                https_egress=egress,
                discovery=CloudMapRegistration(
                    namespace_id=cluster.namespace_id, namespace_name=cluster.namespace_name
                ),
                execute_command=execute,
                # ECS rolls a deployment back when one of these goes to ALARM, beside the circuit breaker.
                deployment_alarm_names=alarms.deployment_alarm_names[role] if edge.deployment_alarms else (),
            ),
        )

    def public_url(role: str) -> pulumi.Output[str]:
        if domain:
            return pulumi.Output.from_input(f"{'https' if alb.https else 'http'}://{role}.{domain}/{role}/")
        return pulumi.Output.concat(alb.url, f"/{role}/")

    outputs: dict[str, Any] = {
        exports.ALB_DNS_NAME: alb.dns_name,
        exports.ALB_ZONE_ID: alb.zone_id,
        exports.ALB_LISTENER_MODE: alb.listener_mode,
        exports.ALB_SECURITY_GROUP_ID: alb.security_group_id,
        exports.ALB_ACCESS_LOGS_BUCKET: alb.access_logs_bucket,
        exports.ECS_CLUSTER_NAME: cluster.cluster_name,
        exports.SERVICE_URLS: {role: public_url(role) for role in services},
        exports.SERVICE_DISCOVERY_NAMES: {role: s.discovery_name for role, s in services.items()},
    }
    return Compute(
        alb=alb,
        cluster=cluster,
        services=services,
        monitored=monitored,
        certificate=certificate,
        web_acl=web_acl,
        web_acl_name=web_acl_name,
        alarms=alarms,
        outputs=outputs,
    )


def _service_dns(settings: StackSettings, alb: LoadBalancer, nlb: NetworkLoadBalancer | None) -> ServiceDns | None:
    """Alias records in the zone: each service's host to the ALB, the static-IP name to the NLB."""
    edge = settings.edge
    if edge.zone is None or not edge.hosts:
        return None
    return ServiceDns(
        f"{settings.stack}-dns",
        ServiceDnsArgs(
            zone=edge.zone,
            hosts=[
                ServiceHost(key=key, name=host, target="nlb" if key == STATIC_IP_HOST else "alb")
                for key, host in edge.hosts.items()
            ],
            # Both load balancers are IPv4-only (ip_address_type="ipv4"): A records, no AAAA.
            alb=AliasTarget(dns_name=alb.dns_name, zone_id=alb.zone_id, ipv6=False),
            nlb=AliasTarget(dns_name=nlb.dns_name, zone_id=nlb.zone_id, ipv6=False) if nlb is not None else None,
        ),
    )


def _dashboard(
    settings: StackSettings, context: AwsContext, compute: Compute, cache: CacheStore
) -> StackDashboard | None:
    if not settings.edge.dashboard:
        return None
    # CloudWatch's CacheClusterId: a replication group's member clusters, or the Memcached cluster.
    node_ids = cache.node_ids if isinstance(cache, Cache) else [settings.cache.identifier]
    return StackDashboard(
        f"{settings.stack}-dashboard",
        StackDashboardArgs(
            name=_physical_id(settings, 255),
            region=context.region,
            load_balancer_arn_suffix=compute.alb.arn_suffix,
            services=compute.monitored,
            cache=DashboardCache(engine=cast("CacheEngine", cache.engine), node_ids=node_ids),
            database_identifier=settings.database.identifier,
            web_acl_name=compute.web_acl_name,
            alarm_arns=compute.alarms.alarm_arns,
        ),
    )


@dataclass
class _StackKeys:
    """The stack's DataKeys, handed out before they exist.

    The keys' policies name the roles that read secrets, and KMS refuses a policy whose principals do
    not exist yet; the log groups, data stores and secrets need the keys' ARNs. So every consumer gets a
    deferred ARN (``pulumi.deferred_output``) and the keys are created last, after those roles, with the
    exact names of every log group; the ARNs then resolve from the keys. The engine sees keys -> roles
    and consumers -> keys: no cycle.
    """

    alias_prefix: str
    arns: KeyArns
    resolvers: dict[DataClass, Callable[[pulumi.Output[str]], None]]

    @classmethod
    def start(cls, settings: StackSettings, context: AwsContext) -> _StackKeys:
        prefix = f"{settings.project}/{settings.stack}"
        check_alias_prefix("alias_prefix", prefix)
        deferred: dict[DataClass, tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]] = {
            data_class: pulumi.deferred_output() for data_class in DATA_CLASSES
        }
        arns = KeyArns(
            logs=deferred["logs"][0],
            data=deferred["data"][0],
            secrets=deferred["secrets"][0],
            secrets_alias_arn=context.arn("kms", key_alias(prefix, "secrets")),
        )
        return cls(prefix, arns, {data_class: resolve for data_class, (_, resolve) in deferred.items()})

    def create(
        self,
        settings: StackSettings,
        context: AwsContext,
        *,
        log_groups: list[str],
        readers: list[str],
        after: Sequence[pulumi.Resource],
    ) -> DataKeys:
        keys = DataKeys(
            f"{settings.stack}-keys",
            DataKeysArgs(
                context=context,
                alias_prefix=self.alias_prefix,
                log_group_prefixes=sorted(set(log_groups)),
                secret_reader_role_arns=sorted(set(readers)),
                deletion_window_days=30,
                after=after,
            ),
        )
        for data_class, resolve in self.resolvers.items():
            resolve({"logs": keys.logs_key_arn, "data": keys.data_key_arn, "secrets": keys.secrets_key_arn}[data_class])
        return keys


def build(settings: StackSettings, context: AwsContext) -> dict[str, Any]:
    """Create every component for this stack and return the stack outputs by export name."""
    pending = _StackKeys.start(settings, context) if settings.customer_managed_keys else None
    keys = pending.arns if pending else None
    network = Network(
        settings.stack,
        NetworkArgs(
            context=context,
            availability_zones=_availability_zones(settings),
            spec=settings.network,
            log_kms_key_arn=keys.logs if keys else None,
            # With inspection on, the public subnets' routes go through the GWLB endpoints (_inspection).
            inspection=settings.inspection is not None,
        ),
    )

    registry = Registry(f"{settings.stack}-registry", settings.registry)
    image = Image(
        f"{settings.stack}-app",
        ImageArgs(repository_url=registry.repository_url, registry_id=registry.registry_id, build=settings.image),
    )
    cache, database = _data_stores(settings, context, network, keys)
    connection = data_store_connection(cache, database, context.region)
    compute = _compute(settings, context, network, image, registry.repository_arns["app"], connection, keys)
    nlb = _static_ip_nlb(settings, network, compute.alb)
    inspection = _inspection(settings, context, network, keys)
    _service_dns(settings, compute.alb, nlb)
    dashboard = _dashboard(settings, context, compute, cache)

    data_keys = None
    if pending is not None:
        roles: list[pulumi.Resource] = [role for service in compute.services.values() for role in service.iam_roles]
        if isinstance(cache, Cache):
            roles += cache.iam_roles
        data_keys = pending.create(
            settings,
            context,
            log_groups=_log_group_names(network, inspection[1] if inspection else None, cache, database, compute),
            readers=_secret_readers(connection, cache, compute.services),
            after=roles,
        )

    return {
        exports.ENVIRONMENT: settings.environment,
        exports.AVAILABILITY_ZONES: network.availability_zones,
        exports.VPC_ID: network.vpc_id,
        exports.PUBLIC_SUBNET_IDS: network.public_subnet_ids,
        exports.PRIVATE_SUBNET_IDS: network.private_subnet_ids,
        exports.ISOLATED_SUBNET_IDS: network.isolated_subnet_ids,
        exports.NAT_GATEWAY_COUNT: len(network.nat_gateway_ids),
        exports.REPOSITORY_URL: registry.repository_url,
        exports.IMAGE_REF: image.image_ref,
        exports.IMAGE_TAG: image.tag,
        exports.IMAGE_PLATFORM: image.platform,
        exports.REGISTRY_SETTINGS: _registry_outputs(registry, settings.registry),
        exports.NLB_DNS_NAME: nlb.dns_name if nlb else None,
        exports.NLB_STATIC_IPS: nlb.static_ips if nlb else None,
        exports.INSPECTION_ENDPOINT_SERVICE_NAME: inspection[0].endpoint_service_name if inspection else None,
        exports.INSPECTION_ENDPOINT_IDS: inspection[0].endpoint_ids if inspection else None,
        **_cache_outputs(cache),
        exports.DATABASE_ENDPOINT: database.endpoint,
        exports.DATABASE_PORT: database.port,
        exports.DATABASE_NAME: database.database_name,
        exports.DATABASE_USERNAME: database.username,
        exports.DATABASE_SECRET_ARN: database.secret_arn,
        exports.DATABASE_SECURITY_GROUP_ID: database.security_group_id,
        **compute.outputs,
        # The edge (issue 16).
        exports.CERTIFICATE_ARN: compute.certificate.arn if compute.certificate is not None else None,
        exports.WEB_ACL_ARN: compute.web_acl.arn if compute.web_acl is not None else None,
        exports.DASHBOARD_NAME: dashboard.name if dashboard is not None else None,
        exports.SERVICE_HOST_NAMES: dict(settings.edge.hosts) or None,
        exports.DATA_KEY_ARNS: (
            {"logs": data_keys.logs_key_arn, "data": data_keys.data_key_arn, "secrets": data_keys.secrets_key_arn}
            if data_keys
            else None
        ),
        exports.DATABASE_AUTH: "iam" if database.iam_auth else "password",
        exports.DATABASE_APP_USERNAME: database.app_username if database.iam_auth else None,
    }


def _log_group_names(
    network: Network,
    inspection_vpc: Network | None,
    cache: CacheStore,
    database: Database,
    compute: Compute,
) -> list[str]:
    """Every log group the stack creates, by exact name: CloudWatch Logs may use the logs key for these."""
    names = [n for n in (network.flow_log_group_name, inspection_vpc and inspection_vpc.flow_log_group_name) if n]
    if isinstance(cache, Cache):
        names += cache.log_group_names
    names += database.log_group_names
    names.append(compute.cluster.exec_log_group_name)
    names += [service.log_group_name for service in compute.services.values()]
    if compute.web_acl is not None:
        names.append(compute.web_acl.log_group_name)
    return names


def _secret_readers(
    connection: DataStoreConnection, cache: CacheStore, services: dict[str, FargateService]
) -> list[str]:
    """The roles that decrypt the stack's secrets: execution roles that inject one (the master password),
    task roles when the app reads the cache's token itself, and the function rotating that token."""
    readers = [
        service.execution_role_arn
        for role, service in services.items()
        if connection.secrets_for(runs_migrations=role == "api")
    ]
    if connection.reads_secrets_at_runtime:
        readers += [service.task_role_arn for service in services.values()]
    if isinstance(cache, Cache) and cache.rotation_role_arn:
        readers.append(cache.rotation_role_arn)
    return readers


def main() -> None:
    """Entry point used by __main__.py: settings first (fail before anything exists), then build."""
    from stack.settings import load_settings

    context = AwsContext.current()
    for name, value in build(load_settings(context), context).items():
        pulumi.export(name, value)
