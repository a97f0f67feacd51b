"""One estimator per billable resource type: the resource's inputs -> what AWS bills it for each month.

Estimators read only the captured registration (type, inputs, dependencies), never the program's
internals, so a component added or changed by anyone is priced from what it actually registers. Links
between resources (a service and its task definition, a log group and the flow log writing to it) go
through the registration's dependencies, which are known at preview as well as at up. Usage the plan
cannot know is asked of the context as an assumption, so it is recorded and printed with the line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any, Final

from mockcloud.monitor import CapturedResource
from offline.cost.model import Charge, Context, Rule

RULES: dict[str, Rule] = {}

GIB_PER_MIB: Final = 1 / 1024
FARGATE_FREE_EPHEMERAL_GIB: Final = 20
"""Every Fargate task gets 20 GiB of ephemeral storage at no charge (Fargate pricing page)."""
REPLICA_FREE_SNAPSHOTS: Final = 1
"""ElastiCache keeps one snapshot per cluster free of backup-storage charges (ElastiCache pricing page)."""
HIGH_RESOLUTION_BELOW_S: Final = 60
"""An alarm evaluating a period under 60 s is a high-resolution alarm (CloudWatch pricing page)."""
WAF_PAID_RULE_GROUPS: Final = {
    "AWSManagedRulesBotControlRuleSet": "waf.bot_control_month",
    "AWSManagedRulesATPRuleSet": "waf.fraud_control_atp_month",
    "AWSManagedRulesACFPRuleSet": "waf.fraud_control_acfp_month",
}
"""Managed rule groups with a subscription fee on top of the rule charge (AWS WAF pricing page)."""

Traffic = dict[str, tuple[float, tuple[str, ...]]]
"""Destination -> (GB per month, assumptions it came from)."""


def rule(*tokens: str) -> Callable[[Rule], Rule]:
    def register(estimator: Rule) -> Rule:
        for token in tokens:
            if token in RULES:
                raise RuntimeError(f"two estimators for {token}")
            RULES[token] = estimator
        return estimator

    return register


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _g(value: float) -> str:
    """A quantity in a detail: 1,000,000 rather than 1e+06, six significant digits for a fraction."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _count(count: float, word: str) -> str:
    """ "3 x NAT gateway": a count and what is counted, without guessing English plurals."""
    return f"{_g(count)} x {word}"


def _hours(ctx: Context, count: float, what: str) -> str:
    return f"{_count(count, what)} x {_g(ctx.hours)} h"


# --- network ------------------------------------------------------------------------------------

ENDPOINT_TRAFFIC: Final = {
    "ecr.dkr": "traffic.ecr_api_gb_per_month",
    "secretsmanager": "traffic.secretsmanager_gb_per_month",
    "kms": "traffic.kms_gb_per_month",
    "ssmmessages": "traffic.ssmmessages_gb_per_month",
}
"""Interface endpoint service (the part of com.amazonaws.<region>.<service>) -> the traffic assumption
for what tasks send to it. ECR's registry API goes through ecr.dkr; CloudWatch Logs' volume is the
tasks' own log volume (see _task_log_gb); image layers go to S3."""


def _endpoint_service(endpoint: CapturedResource) -> str:
    """``com.amazonaws.<region>.ecr.dkr`` -> ``ecr.dkr``; another provider's service name as it is."""
    name = str(endpoint.inputs.get("serviceName") or "")
    parts = name.split(".")
    if len(parts) >= 4 and parts[:2] == ["com", "amazonaws"]:
        return ".".join(parts[3:])
    return name


def _task_log_gb(ctx: Context) -> tuple[float, tuple[str, ...]]:
    """What the tasks' log driver sends to CloudWatch Logs each month (the app log groups' ingestion)."""

    def compute() -> tuple[float, tuple[str, ...]]:
        groups = [g for g in ctx.run.of_type("aws:cloudwatch/logGroup:LogGroup") if _log_writer(ctx, g) == "app"]
        if not groups:
            return 0.0, ()
        return len(groups) * ctx.assume("logs.app_gb_per_day") * ctx.days, ("logs.app_gb_per_day",)

    result: tuple[float, tuple[str, ...]] = ctx.memo("task-log-gb", compute)
    return result


def _interface_services(ctx: Context) -> set[str]:
    return {
        _endpoint_service(e)
        for e in ctx.run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if (e.inputs.get("vpcEndpointType") or "Gateway") == "Interface"
    }


def _gateway_services(ctx: Context) -> set[str]:
    return {
        _endpoint_service(e)
        for e in ctx.run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if (e.inputs.get("vpcEndpointType") or "Gateway") == "Gateway"
    }


def _nat_traffic(ctx: Context) -> Traffic:
    """Traffic from the tasks that leaves through NAT: the internet, and every AWS service without an endpoint."""

    def compute() -> Traffic:
        interface, gateway = _interface_services(ctx), _gateway_services(ctx)
        traffic: Traffic = {
            "internet": (ctx.assume("traffic.internet_gb_per_month"), ("traffic.internet_gb_per_month",))
        }
        if "s3" not in gateway:
            key = "traffic.ecr_layers_gb_per_month"
            traffic["s3 (image layers)"] = (ctx.assume(key), (key,))
        if "logs" not in interface:
            traffic["logs"] = _task_log_gb(ctx)
        for service, key in ENDPOINT_TRAFFIC.items():
            if service not in interface:
                traffic[service] = (ctx.assume(key), (key,))
        return traffic

    result: Traffic = ctx.memo("nat-traffic", compute)
    return result


@rule("aws:ec2/natGateway:NatGateway")
def nat_gateway(resource: CapturedResource, ctx: Context) -> list[Charge]:
    gateways = len(ctx.run.of_type(resource.type))
    traffic = _nat_traffic(ctx)
    total = sum(gb for gb, _ in traffic.values())
    used = tuple(dict.fromkeys(k for _, keys in traffic.values() for k in keys))
    routed = ", ".join(f"{name} {_g(gb)}" for name, (gb, _) in traffic.items() if gb)
    return [
        Charge("vpc.nat_gateway_hour", ctx.hours, "hour", _hours(ctx, 1, "NAT gateway")),
        Charge(
            "vpc.nat_gateway_gb",
            total / gateways,
            "GB",
            f"{_g(total)} GB/month through NAT ({routed or 'none'}), shared by {_count(gateways, 'gateway')}",
            assumptions=used,
        ),
    ]


@rule("aws:ec2/vpcEndpoint:VpcEndpoint")
def vpc_endpoint(resource: CapturedResource, ctx: Context) -> list[Charge]:
    kind = resource.inputs.get("vpcEndpointType") or "Gateway"
    service = _endpoint_service(resource)
    if kind == "Gateway":
        ctx.note(f"Gateway endpoints ({service}) have no hourly or data charge (AWS PrivateLink pricing page).")
        return []
    azs = max(1, len(resource.inputs.get("subnetIds") or []))
    if kind == "GatewayLoadBalancer":
        endpoints = [e for e in ctx.run.of_type(resource.type) if e.inputs.get("vpcEndpointType") == kind]
        key = "inspection.gb_per_month"
        gb = ctx.assume(key) / len(endpoints)
        return [
            Charge("vpc.gwlb_endpoint_hour", azs * ctx.hours, "hour", _hours(ctx, azs, "GWLB endpoint")),
            Charge(
                "vpc.gwlb_endpoint_gb",
                gb,
                "GB",
                f"{_g(gb)} GB inspected (share of {len(endpoints)})",
                assumptions=(key,),
            ),
        ]
    if service == "logs":
        gb, used = _task_log_gb(ctx)
    elif service in ENDPOINT_TRAFFIC:
        key = ENDPOINT_TRAFFIC[service]
        gb, used = ctx.assume(key), (key,)
    elif service == "ecr.api":
        gb, used = 0.0, ()
        ctx.note("ECR's registry traffic is counted on the ecr.dkr endpoint; ecr.api carries only auth calls.")
    else:
        key = "traffic.other_endpoint_gb_per_month"
        gb, used = ctx.assume(key), (key,)
    return [
        Charge("vpc.interface_endpoint_az_hour", azs * ctx.hours, "hour", f"{service} in {_hours(ctx, azs, 'AZ')}"),
        Charge("vpc.interface_endpoint_gb", gb, "GB", f"{_g(gb)} GB/month to {service}", assumptions=used),
    ]


@rule("aws:ec2/eip:Eip")
def elastic_ip(resource: CapturedResource, ctx: Context) -> list[Charge]:
    # Public IPv4 is billed per hour whether the address is in use or idle (since 2024-02-01).
    return [Charge("vpc.public_ipv4_hour", ctx.hours, "hour", _hours(ctx, 1, "public IPv4 address"))]


@rule("aws:ec2/flowLog:FlowLog")
def flow_log(resource: CapturedResource, ctx: Context) -> list[Charge]:
    destination = resource.inputs.get("logDestinationType") or "cloud-watch-logs"
    if destination == "cloud-watch-logs":
        ctx.note("VPC flow logs to CloudWatch Logs are charged on their log group, at the vended-log rate.")
        return []
    key = "logs.flow_gb_per_day"
    gb = ctx.assume(key) * ctx.days
    return [
        Charge(f"logs.vended_{destination.replace('-', '_')}_gb", gb, "GB", f"{_g(gb)} GB/month", assumptions=(key,))
    ]


# --- load balancing ------------------------------------------------------------------------------


def _lb_public_ips(resource: CapturedResource) -> int:
    """AWS-assigned public IPv4 addresses of an internet-facing load balancer: one per AZ it spans.

    Subnet mappings with an ``allocationId`` use the stack's own Elastic IPs, which are billed on their
    Eip resources instead.
    """
    if resource.inputs.get("internal") or resource.inputs.get("loadBalancerType") == "gateway":
        return 0
    mappings = resource.inputs.get("subnetMappings") or []
    if mappings:
        return sum(1 for m in mappings if not m.get("allocationId"))
    return len(resource.inputs.get("subnets") or [])


@rule("aws:lb/loadBalancer:LoadBalancer")
def load_balancer(resource: CapturedResource, ctx: Context) -> list[Charge]:
    kind = resource.inputs.get("loadBalancerType") or "application"
    charges: list[Charge] = []
    if kind == "application":
        requests, gb = ctx.assume("web.requests_per_month"), ctx.assume("web.gb_per_month")
        # LCU dimensions (ELB pricing page): 25 new connections/s, 3,000 active connections/min, 1 GB/h
        # processed, 1,000 rule evaluations/s. Worst case for connections: one new connection per request.
        per_hour = max(gb / ctx.hours, requests / ctx.hours / 3600 / 25)
        charges += [
            Charge("elb.alb_hour", ctx.hours, "hour", _hours(ctx, 1, "ALB")),
            Charge(
                "elb.alb_lcu_hour",
                per_hour * ctx.hours,
                "LCU-hour",
                f"{per_hour:.3g} LCU on average ({_g(requests)} requests and {_g(gb)} GB/month)",
                assumptions=("web.requests_per_month", "web.gb_per_month"),
            ),
        ]
        out, out_key = gb, "web.gb_per_month"
    elif kind == "network":
        gb = ctx.assume("nlb.gb_per_month")
        charges += [
            Charge("elb.nlb_hour", ctx.hours, "hour", _hours(ctx, 1, "NLB")),
            Charge(
                "elb.nlb_nlcu_hour",
                gb,
                "NLCU-hour",
                f"{_g(gb)} GB/month at 1 GB per NLCU-hour",
                assumptions=("nlb.gb_per_month",),
            ),
        ]
        out, out_key = gb, "nlb.gb_per_month"
    else:
        gb = ctx.assume("inspection.gb_per_month")
        charges += [
            Charge("elb.gwlb_hour", ctx.hours, "hour", _hours(ctx, 1, "GWLB")),
            Charge(
                "elb.gwlb_glcu_hour",
                gb,
                "GLCU-hour",
                f"{_g(gb)} GB/month at 1 GB per GLCU-hour",
                assumptions=("inspection.gb_per_month",),
            ),
        ]
        out, out_key = 0.0, ""
    ips = _lb_public_ips(resource)
    if ips:
        charges.append(Charge("vpc.public_ipv4_hour", ips * ctx.hours, "hour", _hours(ctx, ips, "public IPv4 address")))
    if out and not resource.inputs.get("internal"):
        charges.append(
            Charge(
                "data_transfer.internet_out_gb",
                out,
                "GB",
                f"{_g(out)} GB/month of responses to the internet",
                assumptions=(out_key,),
            )
        )
    return charges


# --- compute (ECS on Fargate, EC2 appliances) ----------------------------------------------------


def _task_count(service: CapturedResource, ctx: Context) -> tuple[float, str]:
    """The minimum the service runs: its auto-scaling floor, or its desired count without a scaling target."""
    targets = ctx.dependents(service, "aws:appautoscaling/target:Target")
    if targets:
        low = max(_num(t.inputs.get("minCapacity")) for t in targets)
        return low, "auto-scaling minimum"
    return _num(service.inputs.get("desiredCount"), 1.0), "desired count"


def _strategy(service: CapturedResource, ctx: Context) -> list[dict[str, Any]]:
    strategy = service.inputs.get("capacityProviderStrategies") or []
    if strategy or service.inputs.get("launchType"):
        return [dict(s) for s in strategy]
    # No strategy and no launch type: the cluster's default strategy applies.
    for clusters in ctx.depends_on(service, "aws:ecs/cluster:Cluster", "cluster"):
        for providers in ctx.dependents(clusters, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"):
            return [dict(s) for s in providers.inputs.get("defaultCapacityProviderStrategies") or []]
    return []


def capacity_split(tasks: float, strategy: list[dict[str, Any]]) -> dict[str, float]:
    """Tasks per capacity provider: ``base`` tasks first, the rest in proportion to ``weight`` (ECS docs)."""
    if not strategy:
        return {"FARGATE": tasks}
    split = {str(s["capacityProvider"]): 0.0 for s in strategy}
    remaining = tasks
    for s in strategy:
        base = min(remaining, _num(s.get("base")))
        split[str(s["capacityProvider"])] += base
        remaining -= base
    weights = {str(s["capacityProvider"]): _num(s.get("weight")) for s in strategy}
    total = sum(weights.values())
    if remaining > 0 and total > 0:
        for provider, weight in weights.items():
            split[provider] += remaining * weight / total
    elif remaining > 0:
        split[str(strategy[0]["capacityProvider"])] += remaining
    return split


@rule("aws:ecs/service:Service")
def ecs_service(resource: CapturedResource, ctx: Context) -> list[Charge]:
    definitions = ctx.depends_on(resource, "aws:ecs/taskDefinition:TaskDefinition", "taskDefinition")
    if not definitions:
        ctx.note(f"{resource.name}: no task definition found among its dependencies; its tasks are not estimated.")
        return []
    task = definitions[0].inputs
    vcpu = _num(task.get("cpu")) / 1024
    gb = _num(task.get("memory")) * GIB_PER_MIB
    arch = str((task.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64")
    variant = "linux-arm64" if arch == "ARM64" else "linux-x86_64"
    tasks, why = _task_count(resource, ctx)
    charges: list[Charge] = []
    for provider, count in capacity_split(tasks, _strategy(resource, ctx)).items():
        if count <= 0:
            continue
        prefix = "fargate_spot" if provider == "FARGATE_SPOT" else "fargate"
        label = f"{_g(count)} of {_g(tasks)} tasks ({why}) on {provider}"
        charges += [
            Charge(
                f"{prefix}.vcpu_hour",
                count * vcpu * ctx.hours,
                "vCPU-hour",
                f"{label} x {_g(vcpu)} vCPU x {_g(ctx.hours)} h",
                variant,
            ),
            Charge(
                f"{prefix}.gb_hour",
                count * gb * ctx.hours,
                "GB-hour",
                f"{label} x {_g(gb)} GB x {_g(ctx.hours)} h",
                variant,
            ),
        ]
    extra = _num((task.get("ephemeralStorage") or {}).get("sizeInGib")) - FARGATE_FREE_EPHEMERAL_GIB
    if extra > 0:
        charges.append(
            Charge(
                "fargate.ephemeral_gb_hour",
                tasks * extra * ctx.hours,
                "GB-hour",
                f"{_g(tasks)} tasks x {_g(extra)} GiB over 20",
            )
        )
    network = resource.inputs.get("networkConfiguration") or {}
    if network.get("assignPublicIp"):
        charges.append(
            Charge("vpc.public_ipv4_hour", tasks * ctx.hours, "hour", _hours(ctx, tasks, "task public IPv4"))
        )
    return charges


@rule("aws:ecs/cluster:Cluster")
def ecs_cluster(resource: CapturedResource, ctx: Context) -> list[Charge]:
    settings = {s.get("name"): s.get("value") for s in resource.inputs.get("settings") or []}
    insights = settings.get("containerInsights") or "disabled"
    if insights == "disabled":
        return []
    key = "container_insights.metrics_per_cluster"
    metrics = ctx.assume(key)
    # The ECS guide: metrics collected by Container Insights are charged as custom metrics. Enhanced
    # observability adds task- and container-level metrics with a pricing of its own.
    price = (
        "cloudwatch.custom_metric_month"
        if insights == "enabled"
        else "cloudwatch.container_insights_enhanced_metric_month"
    )
    return [
        Charge(
            price, metrics, "metric-month", f"{_g(metrics)} metrics (Container Insights {insights})", assumptions=(key,)
        )
    ]


@rule("aws:autoscaling/group:Group")
def autoscaling_group(resource: CapturedResource, ctx: Context) -> list[Charge]:
    templates = ctx.depends_on(resource, "aws:ec2/launchTemplate:LaunchTemplate")
    if not templates:
        ctx.note(f"{resource.name}: no launch template among its dependencies; its instances are not estimated.")
        return []
    template = templates[0].inputs
    count = _num(resource.inputs.get("desiredCapacity"), _num(resource.inputs.get("minSize")))
    instance_type = str(template.get("instanceType") or "")
    charges = [
        Charge(
            "ec2.instance_hour",
            count * ctx.hours,
            "hour",
            _hours(ctx, count, f"{instance_type} instance"),
            f"linux {instance_type}",
        )
    ]
    for mapping in template.get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        size = _num(ebs.get("volumeSize"), 8.0)
        volume = str(ebs.get("volumeType") or "gp3")
        charges.append(
            Charge("ebs.gb_month", count * size, "GB-month", f"{_g(count)} x {_g(size)} GB {volume}", volume)
        )
    ctx.note(
        f"{resource.name}: the appliance AMI's own software fees (AWS Marketplace) are not included; "
        "only the EC2 instance and its EBS volumes are priced."
    )
    return charges


# --- cache and database --------------------------------------------------------------------------


@rule("aws:elasticache/replicationGroup:ReplicationGroup")
def replication_group(resource: CapturedResource, ctx: Context) -> list[Charge]:
    inputs = resource.inputs
    engine = str(inputs.get("engine") or "redis")
    node_type = str(inputs.get("nodeType") or "")
    if inputs.get("numCacheClusters"):
        shards, nodes = 1.0, _num(inputs.get("numCacheClusters"))
    else:
        shards = _num(inputs.get("numNodeGroups"), 1.0)
        nodes = shards * (_num(inputs.get("replicasPerNodeGroup")) + 1)
    charges = [
        Charge(
            "elasticache.node_hour",
            nodes * ctx.hours,
            "node-hour",
            _hours(ctx, nodes, f"{node_type} node"),
            f"{engine} {node_type}",
        )
    ]
    retention = _num(inputs.get("snapshotRetentionLimit"))
    if retention > REPLICA_FREE_SNAPSHOTS:
        key = "cache.dataset_gb"
        dataset = ctx.assume(key)
        billed = shards * dataset * (retention - REPLICA_FREE_SNAPSHOTS)
        charges.append(
            Charge(
                "elasticache.backup_gb_month",
                billed,
                "GB-month",
                f"{_g(retention)} daily snapshots of {_g(dataset)} GB x {_g(shards)} shard(s), one free",
                assumptions=(key,),
            )
        )
    return charges


@rule("aws:elasticache/cluster:Cluster")
def cache_cluster(resource: CapturedResource, ctx: Context) -> list[Charge]:
    engine = str(resource.inputs.get("engine") or "memcached")
    node_type = str(resource.inputs.get("nodeType") or "")
    nodes = _num(resource.inputs.get("numCacheNodes"), 1.0)
    return [
        Charge(
            "elasticache.node_hour",
            nodes * ctx.hours,
            "node-hour",
            _hours(ctx, nodes, f"{node_type} node"),
            f"{engine} {node_type}",
        )
    ]


@rule("aws:rds/instance:Instance")
def db_instance(resource: CapturedResource, ctx: Context) -> list[Charge]:
    inputs = resource.inputs
    deployment = "multi-az" if inputs.get("multiAz") else "single-az"
    engine = str(inputs.get("engine") or "")
    instance_class = str(inputs.get("instanceClass") or "")
    storage = _num(inputs.get("allocatedStorage"))
    storage_type = str(inputs.get("storageType") or "gp2")
    charges = [
        Charge(
            "rds.instance_hour",
            ctx.hours,
            "hour",
            f"1 {instance_class} ({deployment}) x {_g(ctx.hours)} h",
            f"{engine} {instance_class} {deployment}",
        ),
        Charge(
            "rds.storage_gb_month",
            storage,
            "GB-month",
            f"{_g(storage)} GB {storage_type} ({deployment})",
            f"{storage_type} {deployment}",
        ),
    ]
    if _num(inputs.get("iops")) or _num(inputs.get("storageThroughput")):
        charges.append(
            Charge(
                "rds.provisioned_iops_month", _num(inputs.get("iops")), "IOPS-month", "provisioned IOPS", storage_type
            )
        )
    if _num(inputs.get("backupRetentionPeriod")):
        key = "db.backup_gb_beyond_free"
        gb = ctx.assume(key)
        if gb:
            charges.append(
                Charge(
                    "rds.backup_gb_month",
                    gb,
                    "GB-month",
                    f"{_g(gb)} GB of backups beyond the free allowance",
                    assumptions=(key,),
                )
            )
        else:
            ctx.note(f"{resource.name}: backups are assumed to fit the free allowance (100% of provisioned storage).")
    if inputs.get("performanceInsightsEnabled"):
        days = _num(inputs.get("performanceInsightsRetentionPeriod"), 7.0)
        if days > 7:
            charges.append(
                Charge(
                    "rds.performance_insights_long_term_vcpu_month", 1, "instance-month", f"{_g(days)} days retention"
                )
            )
        else:
            ctx.note(f"{resource.name}: Performance Insights with 7 days of retention is in the free tier.")
    interval = _num(inputs.get("monitoringInterval"))
    if interval:
        key = "rds.enhanced_monitoring_gb_per_month_at_60s"
        gb = ctx.assume(key) * 60 / interval
        charges.append(
            Charge(
                "logs.ingest_gb",
                gb,
                "GB",
                f"enhanced monitoring every {_g(interval)} s into RDSOSMetrics",
                assumptions=(key,),
            )
        )
    if inputs.get("manageMasterUserPassword"):
        charges.append(Charge("secretsmanager.secret_month", 1, "secret-month", "the RDS-managed master user secret"))
    if inputs.get("publiclyAccessible"):
        charges.append(Charge("vpc.public_ipv4_hour", ctx.hours, "hour", _hours(ctx, 1, "public IPv4 address")))
    return charges


# --- observability -------------------------------------------------------------------------------


def _log_writer(ctx: Context, group: CapturedResource) -> str:
    """Who writes to a log group, from the resources that depend on it: flow, waf, app (ECS tasks) or other."""
    if ctx.dependents(group, "aws:ec2/flowLog:FlowLog"):
        return "flow"
    if ctx.dependents(group, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"):
        return "waf"
    if ctx.dependents(group, "aws:ecs/taskDefinition:TaskDefinition"):
        return "app"
    return "other"


@rule("aws:cloudwatch/logGroup:LogGroup")
def log_group(resource: CapturedResource, ctx: Context) -> list[Charge]:
    writer = _log_writer(ctx, resource)
    key = f"logs.{writer}_gb_per_day"
    daily = ctx.assume(key)
    vended = writer in ("flow", "waf")
    retention = _num(resource.inputs.get("retentionInDays"))
    if retention:
        stored, kept = daily * retention, f"{_g(retention)} days retention"
        used: tuple[str, ...] = (key,)
    else:
        months = ctx.assume("logs.months_kept_without_retention")
        stored, kept = daily * ctx.days * months, f"no retention: {_g(months)} months kept"
        used = (key, "logs.months_kept_without_retention")
    return [
        Charge(
            "logs.vended_ingest_gb" if vended else "logs.ingest_gb",
            daily * ctx.days,
            "GB",
            f"{_g(daily)} GB/day ({writer} logs) x {_g(ctx.days)} days" + (" at the vended-log rate" if vended else ""),
            assumptions=(key,),
        ),
        Charge(
            "logs.storage_gb_month",
            stored,
            "GB-month",
            f"{_g(daily)} GB/day x {kept}, counted uncompressed",
            assumptions=used,
        ),
    ]


def _alarm_metrics(inputs: dict[str, Any]) -> tuple[float, bool]:
    """Alarm metrics billed for an alarm and whether it is high resolution (CloudWatch pricing page).

    A metric-math alarm is billed per metric it reads (the expressions themselves are not metrics); an
    alarm over a period shorter than 60 s is a high-resolution alarm.
    """
    queries = inputs.get("metricQueries") or []
    if queries:
        metrics = [q for q in queries if q.get("metric")]
        periods = [_num((q.get("metric") or {}).get("period"), 60.0) for q in metrics]
        return float(max(1, len(metrics))), any(p < HIGH_RESOLUTION_BELOW_S for p in periods)
    return 1.0, _num(inputs.get("period"), 60.0) < HIGH_RESOLUTION_BELOW_S


@rule("aws:cloudwatch/metricAlarm:MetricAlarm")
def metric_alarm(resource: CapturedResource, ctx: Context) -> list[Charge]:
    metrics, high_res = _alarm_metrics(resource.inputs)
    key = "cloudwatch.alarm_high_resolution_month" if high_res else "cloudwatch.alarm_standard_month"
    kind = "high-resolution" if high_res else "standard"
    return [Charge(key, metrics, "alarm-metric-month", f"{_count(metrics, 'metric')} ({kind})")]


@rule("aws:cloudwatch/compositeAlarm:CompositeAlarm")
def composite_alarm(resource: CapturedResource, ctx: Context) -> list[Charge]:
    return [Charge("cloudwatch.alarm_composite_month", 1, "alarm-month", "1 composite alarm")]


@rule("aws:cloudwatch/dashboard:Dashboard")
def dashboard(resource: CapturedResource, ctx: Context) -> list[Charge]:
    return [Charge("cloudwatch.dashboard_month", 1, "dashboard-month", "1 custom dashboard")]


@rule("aws:appautoscaling/policy:Policy")
def scaling_policy(resource: CapturedResource, ctx: Context) -> list[Charge]:
    if resource.inputs.get("policyType") != "TargetTrackingScaling":
        return []
    # Application Auto Scaling creates and manages the CloudWatch alarms of a target tracking policy.
    key = "autoscaling.alarms_per_target_tracking_policy"
    alarms = ctx.assume(key)
    return [
        Charge(
            "cloudwatch.alarm_standard_month",
            alarms,
            "alarm-metric-month",
            f"{_g(alarms)} alarms it manages",
            assumptions=(key,),
        )
    ]


# --- keys, secrets, parameters -------------------------------------------------------------------


@rule("aws:kms/key:Key")
def kms_key(resource: CapturedResource, ctx: Context) -> list[Charge]:
    key = "kms.requests_per_month_per_key"
    requests = ctx.assume(key)
    if resource.inputs.get("enableKeyRotation"):
        ctx.note("Rotated KMS keys: each rotation adds a key version billed like a key (first two rotations).")
    return [
        Charge("kms.key_month", 1, "key-month", "1 customer-managed key (first year, before rotations)"),
        Charge(
            "kms.requests_10k", requests / 10_000, "10k requests", f"{_g(requests)} requests/month", assumptions=(key,)
        ),
    ]


@rule("aws:secretsmanager/secret:Secret")
def secret(resource: CapturedResource, ctx: Context) -> list[Charge]:
    replicas = len(resource.inputs.get("replicas") or [])
    key = "secrets.api_calls_per_month_per_secret"
    calls = ctx.assume(key)
    return [
        Charge("secretsmanager.secret_month", 1 + replicas, "secret-month", f"1 secret + {replicas} replica(s)"),
        Charge(
            "secretsmanager.api_10k", calls / 10_000, "10k calls", f"{_g(calls)} API calls/month", assumptions=(key,)
        ),
    ]


@rule("aws:ssm/parameter:Parameter")
def ssm_parameter(resource: CapturedResource, ctx: Context) -> list[Charge]:
    if resource.inputs.get("tier") in ("Advanced", "Intelligent-Tiering"):
        return [Charge("ssm.advanced_parameter_month", 1, "parameter-month", "1 advanced-tier parameter")]
    return []  # Standard parameters have no storage charge (Systems Manager pricing page).


# --- registry ------------------------------------------------------------------------------------


def _repositories(ctx: Context, filters: Iterable[dict[str, Any]]) -> list[CapturedResource]:
    """The run's repositories a scanning or replication rule's filters select (none: every repository).
    ``WILDCARD`` filters match the whole name with ``*`` and any name containing them without (ECR's
    rules), ``PREFIX_MATCH`` filters the start of the name."""
    filters = list(filters)
    repos = ctx.run.of_type("aws:ecr/repository:Repository")
    if not filters:
        return repos

    def selected(name: str) -> bool:
        for f in filters:
            pattern = str(f.get("filter") or "")
            if f.get("filterType") != "WILDCARD":
                matched = name.startswith(pattern)  # PREFIX_MATCH (replication rules)
            elif "*" in pattern:
                matched = fnmatch.fnmatchcase(name, pattern)  # the whole name must match
            else:
                matched = pattern in name  # a WILDCARD filter without * matches names containing it
            if matched:
                return True
        return False

    return [r for r in repos if selected(str(r.inputs.get("name") or r.name))]


@rule("aws:ecr/repository:Repository")
def ecr_repository(resource: CapturedResource, ctx: Context) -> list[Charge]:
    key = "ecr.stored_gb_per_repository"
    gb = ctx.assume(key)
    return [
        Charge(
            "ecr.storage_gb_month",
            gb,
            "GB-month",
            f"{_g(gb)} GB of images kept by the lifecycle policy",
            assumptions=(key,),
        )
    ]


@rule("aws:ecr/replicationConfiguration:ReplicationConfiguration")
def ecr_replication(resource: CapturedResource, ctx: Context) -> list[Charge]:
    charges: list[Charge] = []
    config = resource.inputs.get("replicationConfiguration") or {}
    for replication in config.get("rules") or []:
        repos = _repositories(ctx, replication.get("repositoryFilters") or [])
        for destination in replication.get("destinations") or []:
            region = str(destination.get("region"))
            stored, pushed = ctx.assume("ecr.stored_gb_per_repository"), ctx.assume("ecr.pushed_gb_per_month")
            charges += [
                Charge(
                    "ecr.storage_gb_month",
                    stored * len(repos),
                    "GB-month",
                    f"replica in {region} of {_count(len(repos), 'repository')} x {_g(stored)} GB",
                    assumptions=("ecr.stored_gb_per_repository",),
                    region=region,
                ),
                Charge(
                    "data_transfer.inter_region_gb",
                    pushed * len(repos),
                    "GB",
                    f"{_g(pushed)} GB/month pushed x {len(repos)} to {region}",
                    region,
                    assumptions=("ecr.pushed_gb_per_month",),
                ),
            ]
    return charges


@rule("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
def ecr_scanning(resource: CapturedResource, ctx: Context) -> list[Charge]:
    if resource.inputs.get("scanType") != "ENHANCED":
        return []  # Basic scanning has no charge (Amazon ECR pricing page).
    charges: list[Charge] = []
    for scan in resource.inputs.get("rules") or []:
        repos = len(_repositories(ctx, scan.get("repositoryFilters") or []))
        pushes = ctx.assume("ecr.images_pushed_per_month_per_repository") * repos
        charges.append(
            Charge(
                "inspector.ecr_initial_scan",
                pushes,
                "image scan",
                f"{_g(pushes)} images pushed/month (Amazon Inspector)",
                assumptions=("ecr.images_pushed_per_month_per_repository",),
            )
        )
        if scan.get("scanFrequency") == "CONTINUOUS_SCAN":
            rescans = ctx.assume("ecr.rescans_per_month_per_repository") * repos
            charges.append(
                Charge(
                    "inspector.ecr_rescan",
                    rescans,
                    "image rescan",
                    f"{_g(rescans)} rescans/month of stored images",
                    assumptions=("ecr.rescans_per_month_per_repository",),
                )
            )
    return charges


# --- storage -------------------------------------------------------------------------------------


@rule("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def s3_bucket(resource: CapturedResource, ctx: Context) -> list[Charge]:
    lifecycles = ctx.dependents(resource, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    days = [
        _num((r.get("expiration") or {}).get("days"))
        for config in lifecycles
        for r in config.inputs.get("rules") or []
        if (r.get("expiration") or {}).get("days")
    ]
    key = "s3.gb_written_per_day_per_bucket"
    daily = ctx.assume(key)
    used: tuple[str, ...]
    if days:
        kept, used = max(days), (key,)
        why = f"expired after {_g(kept)} days"
    else:
        kept = ctx.assume("s3.days_kept_without_expiry")
        used, why = (key, "s3.days_kept_without_expiry"), f"no expiry: {_g(kept)} days kept"
    puts = ctx.assume("s3.put_requests_per_month_per_bucket")
    return [
        Charge("s3.standard_gb_month", daily * kept, "GB-month", f"{_g(daily)} GB/day, {why}", assumptions=used),
        Charge(
            "s3.put_requests_1k",
            puts / 1000,
            "1k requests",
            f"{_g(puts)} PUTs/month",
            assumptions=("s3.put_requests_per_month_per_bucket",),
        ),
    ]


# --- edge: WAF, DNS, certificates, service discovery --------------------------------------------


@rule("aws:wafv2/webAcl:WebAcl")
def web_acl(resource: CapturedResource, ctx: Context) -> list[Charge]:
    rules = resource.inputs.get("rules") or []
    requests = ctx.assume("web.requests_per_month")
    charges = [
        Charge("waf.web_acl_month", 1, "web-ACL-month", "1 web ACL"),
        Charge(
            "waf.rule_month", len(rules), "rule-month", f"{_count(len(rules), 'rule')} (a managed rule group is one)"
        ),
        Charge(
            "waf.requests_million",
            requests / 1e6,
            "million requests",
            f"{_g(requests)} requests/month",
            assumptions=("web.requests_per_month",),
        ),
    ]
    for entry in rules:
        group = (entry.get("statement") or {}).get("managedRuleGroupStatement") or {}
        paid = WAF_PAID_RULE_GROUPS.get(str(group.get("name")))
        if paid and group.get("vendorName") == "AWS":
            charges.append(Charge(paid, 1, "subscription-month", f"{group['name']} subscription"))
    return charges


@rule("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
def waf_logging(resource: CapturedResource, ctx: Context) -> list[Charge]:
    destinations = [str(d) for d in resource.inputs.get("logDestinationConfigs") or []]
    # At preview the destination ARN is unknown; the dependency on a log group says where it goes.
    to_log_group = any("aws:cloudwatch/logGroup:LogGroup::" in urn for urn in resource.dependencies)
    if all(":logs:" in d or not d or (to_log_group and not d.startswith("arn:")) for d in destinations):
        ctx.note("WAF logs to CloudWatch Logs are charged on their log group, at the vended-log rate.")
        return []
    key = "logs.waf_gb_per_day"
    gb = ctx.assume(key) * ctx.days
    return [
        Charge("logs.vended_s3_gb", gb, "GB", f"{_g(gb)} GB/month of WAF logs to S3 or Firehose", assumptions=(key,))
    ]


@rule("aws:route53/record:Record")
def dns_record(resource: CapturedResource, ctx: Context) -> list[Charge]:
    if resource.inputs.get("aliases"):
        # Queries to alias records that point at ELB, CloudFront, S3 and similar are free (Route 53 pricing).
        return []
    key = "dns.queries_per_month_per_record"
    queries = ctx.assume(key)
    return [
        Charge(
            "route53.queries_million",
            queries / 1e6,
            "million queries",
            f"{_g(queries)} queries/month",
            assumptions=(key,),
        )
    ]


@rule("aws:route53/zone:Zone")
def hosted_zone(resource: CapturedResource, ctx: Context) -> list[Charge]:
    return [Charge("route53.hosted_zone_month", 1, "zone-month", "1 hosted zone (of the first 25)")]


@rule("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
def private_namespace(resource: CapturedResource, ctx: Context) -> list[Charge]:
    key = "dns.private_queries_per_month"
    queries = ctx.assume(key)
    return [
        Charge("route53.hosted_zone_month", 1, "zone-month", "the private hosted zone Cloud Map creates"),
        Charge(
            "route53.queries_million",
            queries / 1e6,
            "million queries",
            f"{_g(queries)} queries/month",
            assumptions=(key,),
        ),
    ]


@rule("aws:servicediscovery/service:Service")
def discovery_service(resource: CapturedResource, ctx: Context) -> list[Charge]:
    services = ctx.dependents(resource, "aws:ecs/service:Service")
    instances = sum(_task_count(s, ctx)[0] for s in services) if services else 1.0
    return [
        Charge("cloudmap.registered_instance_month", instances, "instance-month", f"{_g(instances)} registered task(s)")
    ]


@rule("aws:acm/certificate:Certificate")
def certificate(resource: CapturedResource, ctx: Context) -> list[Charge]:
    if resource.inputs.get("certificateAuthorityArn"):
        return [Charge("acm.private_certificate", 1, "certificate", "1 private certificate (AWS Private CA)")]
    return []  # Public certificates from ACM are free (ACM pricing page).
