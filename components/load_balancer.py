"""The internet-facing Application Load Balancer: listeners, target groups, routing rules, access logs."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import pulumi
import pulumi_aws as aws

from components.arns import check_certificate_arn
from components.aws_context import AwsContext
from components.errors import InputError, at_least, in_range, one_of, require

# TLS 1.3 policies whose minimum is TLS 1.2, without the "Ext" variants that re-admit CBC ciphers
# for legacy clients. AWS recommends the hybrid post-quantum ``...-Res-PQ-2025-09`` (the console's
# default since 2025); the FIPS ones are for FedRAMP-style requirements.
TLS13_POLICIES: Final = (
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
DEFAULT_TLS_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"

# ALB limits (elasticloadbalancing quotas and the CreateTargetGroup / CreateRule API ranges).
HEALTH_CHECK_INTERVAL: Final = (5, 300)
HEALTH_CHECK_TIMEOUT: Final = (2, 120)
HEALTH_CHECK_THRESHOLD: Final = (2, 10)
MATCHER_CODES: Final = (200, 499)
DEREGISTRATION_DELAY: Final = (0, 3600)
RULE_PRIORITY: Final = (1, 50_000)
MAX_CONDITION_VALUES: Final = 5  # "match evaluations" per rule, across all its conditions
IDLE_TIMEOUT: Final = (1, 4000)

ACCESS_LOG_PREFIX: Final = "alb"
_MATCHER_PART: Final = re.compile(r"^(\d{3})(?:-(\d{3}))?$")
_PATH_PATTERN: Final = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&()!,;=*?]{1,128}$")
_HOST_HEADER: Final = re.compile(r"^[A-Za-z0-9\-.*?]{1,128}$")
_KEY: Final = re.compile(r"^[a-z][a-z0-9-]{0,15}$")

LoadBalancingAlgorithm = Literal["round_robin", "least_outstanding_requests"]


def _in_range(setting: str, value: int, bounds: tuple[int, int]) -> None:
    in_range(setting, value, *bounds)


def validate_matcher(matcher: str, setting: str = "matcher") -> None:
    """HTTP codes for a healthy target: ``200``, ``200,204`` or ``200-299``, each within 200-499."""
    allowed = (
        f"codes or ascending ranges such as '200', '200,204' or '200-299', each from {MATCHER_CODES[0]} "
        f"to {MATCHER_CODES[1]}"
    )
    for part in matcher.split(","):
        m = _MATCHER_PART.match(part.strip())
        require(m is not None, setting, matcher, allowed)
        assert m is not None
        low = int(m.group(1))
        high = int(m.group(2) or low)
        require(MATCHER_CODES[0] <= low <= high <= MATCHER_CODES[1], setting, matcher, allowed)


def check_cidrs(setting: str, cidrs: Sequence[str], *, at_least_one: bool) -> None:
    """IPv4 or IPv6 CIDRs (clients admitted, rule sources)."""
    values = list(cidrs)
    if at_least_one:
        require(bool(values), setting, values, "at least one CIDR")
    for cidr in values:
        try:
            ipaddress.ip_network(cidr)
        except ValueError:
            raise InputError(
                setting, values, f"every item a CIDR such as 203.0.113.0/24 or 2001:db8::/32 (bad: {cidr})"
            ) from None


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """An explicit ALB target health check (HTTP on the traffic port), validated against AWS's ranges."""

    path: str
    """Request path, e.g. ``/readyz``."""
    matcher: str = "200"
    """Healthy HTTP codes: ``200``, ``200,204`` or ``200-299`` (200-499)."""
    interval_seconds: int = 15
    """Seconds between checks (5-300)."""
    timeout_seconds: int = 5
    """Seconds to wait for an answer (2-120, less than the interval)."""
    healthy_threshold: int = 2
    """Consecutive successes before a target receives traffic (2-10)."""
    unhealthy_threshold: int = 3
    """Consecutive failures before a target is taken out (2-10)."""

    def __post_init__(self) -> None:
        require(
            self.path.startswith("/") and len(self.path) <= 1024,
            "health_check.path",
            self.path,
            "an absolute path of 1-1024 characters",
        )
        validate_matcher(self.matcher, "health_check.matcher")
        _in_range("health_check.interval_seconds", self.interval_seconds, HEALTH_CHECK_INTERVAL)
        _in_range("health_check.timeout_seconds", self.timeout_seconds, HEALTH_CHECK_TIMEOUT)
        require(
            self.timeout_seconds < self.interval_seconds,
            "health_check.timeout_seconds",
            self.timeout_seconds,
            f"less than interval_seconds ({self.interval_seconds})",
        )
        _in_range("health_check.healthy_threshold", self.healthy_threshold, HEALTH_CHECK_THRESHOLD)
        _in_range("health_check.unhealthy_threshold", self.unhealthy_threshold, HEALTH_CHECK_THRESHOLD)

    @property
    def seconds_to_unhealthy(self) -> int:
        """How long a failing target keeps receiving traffic (and, on ECS, before it is replaced)."""
        return self.interval_seconds * self.unhealthy_threshold


@dataclass(frozen=True, kw_only=True)
class TargetGroupSpec:
    """One target group of Fargate task IPs (target type ``ip``, HTTP)."""

    key: str
    """Short identifier (``api``): names the child resources and keys the outputs."""
    health_check: HealthCheck
    """Explicit health check; never AWS's implicit defaults."""
    port: int = 8080
    """Port the tasks listen on."""
    deregistration_delay_seconds: int = 30
    """Draining time for in-flight requests (0-3600). Requests here take milliseconds, so 30 s
    instead of AWS's 300 s keeps deployments fast without cutting requests off."""
    slow_start_seconds: int = 0
    """Ramp-up for new targets: 0 (off) or 30-900."""
    algorithm: LoadBalancingAlgorithm = "round_robin"
    """``least_outstanding_requests`` suits uneven request costs (not combinable with slow start)."""

    def __post_init__(self) -> None:
        require(_KEY.match(self.key) is not None, "target_group.key", self.key, "1-16 of a-z, 0-9, '-' (letter first)")
        where = f"target_group[{self.key}]"
        _in_range(f"{where}.port", self.port, (1, 65535))
        _in_range(f"{where}.deregistration_delay_seconds", self.deregistration_delay_seconds, DEREGISTRATION_DELAY)
        require(
            self.slow_start_seconds == 0 or 30 <= self.slow_start_seconds <= 900,
            f"{where}.slow_start_seconds",
            self.slow_start_seconds,
            "0 (off) or 30-900",
        )
        one_of(f"{where}.algorithm", self.algorithm, get_args(LoadBalancingAlgorithm))
        require(
            not (self.algorithm == "least_outstanding_requests" and self.slow_start_seconds),
            f"{where}.slow_start_seconds",
            self.slow_start_seconds,
            "0 with least_outstanding_requests (AWS rejects the combination; or use round_robin)",
        )


@dataclass(frozen=True, kw_only=True)
class RoutingRule:
    """A listener rule: forward to a target group when ALL given conditions match.

    Within one condition the values are alternatives (OR); across conditions they combine (AND),
    as ALB evaluates them.
    """

    name: str
    """Stable identifier of the rule (names the child resource, so reordering never renames it)."""
    target: str
    """Key of the target group to forward to."""
    path_patterns: Sequence[str] = ()
    """Path patterns such as ``/api/*`` (case-sensitive, ``*`` and ``?`` wildcards)."""
    host_headers: Sequence[str] = ()
    """Host names such as ``api.example.com`` (case-insensitive, wildcards allowed)."""
    source_cidrs: Sequence[str] = ()
    """Client source addresses allowed to match (e.g. an office range for admin endpoints)."""
    priority: int | None = None
    """Explicit priority (1-50000, lower is evaluated first); allocated when omitted."""

    def __post_init__(self) -> None:
        require(_KEY.match(self.name) is not None, "rule.name", self.name, "1-16 of a-z, 0-9, '-' (letter first)")
        where = f"rule[{self.name}]"
        require(
            bool(self.path_patterns or self.host_headers or self.source_cidrs),
            f"{where}.conditions",
            [],
            "at least one path pattern, host header or source CIDR",
        )
        for pattern in self.path_patterns:
            require(
                _PATH_PATTERN.match(pattern) is not None and pattern.startswith("/"),
                f"{where}.path_patterns",
                pattern,
                "'/'-prefixed, up to 128 of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & ( ) ! , ; = and the wildcards * ?",
            )
        for host in self.host_headers:
            require(
                _HOST_HEADER.match(host) is not None,
                f"{where}.host_headers",
                host,
                "up to 128 of A-Z a-z 0-9 - . * ?",
            )
        check_cidrs(f"{where}.source_cidrs", self.source_cidrs, at_least_one=False)
        count = len(self.path_patterns) + len(self.host_headers) + len(self.source_cidrs)
        require(
            count <= MAX_CONDITION_VALUES,
            f"{where}.conditions",
            count,
            f"at most {MAX_CONDITION_VALUES} condition values per rule (ALB's limit)",
        )
        if self.priority is not None:
            _in_range(f"{where}.priority", self.priority, RULE_PRIORITY)


def allocate_priorities(rules: Sequence[RoutingRule], *, first: int = 100, step: int = 10) -> dict[str, int]:
    """Rule name -> priority: explicit ones kept, the rest numbered in list order, all unique.

    Deterministic (same rules, same numbers on every run) and spaced by ``step`` so a rule can be
    slotted in between later without renumbering the others.
    """
    taken: dict[int, str] = {}
    for rule in rules:
        if rule.priority is None:
            continue
        require(
            rule.priority not in taken,
            f"rule[{rule.name}].priority",
            rule.priority,
            f"a priority no other rule of the listener has (rule[{taken.get(rule.priority)}] has it)",
        )
        taken[rule.priority] = rule.name
    result: dict[str, int] = {}
    candidate = first
    for rule in rules:
        if rule.priority is not None:
            result[rule.name] = rule.priority
            continue
        while candidate in taken:
            candidate += step
        _in_range(f"rule[{rule.name}].priority (allocated)", candidate, RULE_PRIORITY)
        taken[candidate] = rule.name
        result[rule.name] = candidate
        candidate += step
    return result


@dataclass(frozen=True, kw_only=True)
class LoadBalancerSpec:
    """Who may reach the ALB and how it is kept: plain values the stack's config decides, validated."""

    ingress_cidrs: Sequence[str]
    """Client ranges admitted on the listener ports (IPv4 or IPv6 CIDRs)."""
    ssl_policy: str
    """TLS 1.3 security policy of the HTTPS listener."""
    deletion_protection: bool
    """Refuse deletion of the load balancer through the API."""
    access_logs: bool
    """Write access logs to an S3 bucket created here."""
    access_log_expiration_days: int
    """Days after which access log objects are deleted."""

    def __post_init__(self) -> None:
        check_cidrs("ingress_cidrs", self.ingress_cidrs, at_least_one=True)
        one_of("ssl_policy", self.ssl_policy, TLS13_POLICIES)
        _in_range("access_log_expiration_days", self.access_log_expiration_days, (1, 36_500))


@dataclass(frozen=True, kw_only=True)
class LoadBalancerArgs:
    """Where the public ALB lives, what it routes, and its spec."""

    context: AwsContext
    """Account, region and partition (plain values)."""
    vpc_id: pulumi.Input[str]
    """VPC of the load balancer and its target groups."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Public subnets, one per AZ (at least two)."""
    target_groups: Sequence[TargetGroupSpec]
    """Target groups to create."""
    rules: Sequence[RoutingRule]
    """Listener rules; anything they do not match gets the default 404."""
    spec: LoadBalancerSpec
    """Ingress, TLS policy, deletion protection, access logs."""
    certificate_arn: pulumi.Input[str] | None = None
    """ACM certificate: HTTPS on 443 with HTTP redirecting to it. Without one, HTTP only (dev). Pass
    ``Certificate.arn`` (the validation's output) so the HTTPS listener waits until ACM has issued it;
    a plain ARN is checked here, an ``Output`` by ACM when the listener is created."""
    access_log_bucket_name: str | None = None
    """Globally unique bucket name; ``<name>-access-logs-<account>-<region>`` when omitted."""
    idle_timeout_seconds: int = 60
    """Idle connection timeout; must stay below the app's keep-alive."""
    app_keep_alive_seconds: int = 75
    """The app's HTTP keep-alive (uvicorn): the ALB must close idle connections first, or it reuses a
    connection the app just closed and answers 502."""
    hsts_max_age_seconds: int = 31_536_000
    """``Strict-Transport-Security`` max-age added to HTTPS responses (0 disables the header)."""
    first_rule_priority: int = 100
    """First allocated rule priority; allocated ones are spaced by 10."""

    def __post_init__(self) -> None:
        require(
            len(self.subnet_ids) >= 2,
            "subnet_ids",
            f"{len(self.subnet_ids)} subnets",
            "subnets in at least 2 AZs (an ALB needs them)",
        )
        require(bool(self.target_groups), "target_groups", [], "at least one target group")
        keys = [tg.key for tg in self.target_groups]
        require(len(set(keys)) == len(keys), "target_groups", keys, "distinct keys")
        names = [r.name for r in self.rules]
        require(len(set(names)) == len(names), "rules", names, "distinct names")
        for rule in self.rules:
            one_of(f"rule[{rule.name}].target", rule.target, keys)
        unrouted = [k for k in keys if k not in {r.target for r in self.rules}]
        require(
            not unrouted,
            "target_groups",
            unrouted,
            "target groups some rule routes to (ECS refuses a target group no listener routes to)",
        )
        allocate_priorities(self.rules, first=self.first_rule_priority)  # raises on conflicts
        if isinstance(self.certificate_arn, str):
            check_certificate_arn("certificate_arn", self.certificate_arn)
        _in_range("idle_timeout_seconds", self.idle_timeout_seconds, IDLE_TIMEOUT)
        require(
            self.idle_timeout_seconds < self.app_keep_alive_seconds,
            "idle_timeout_seconds",
            self.idle_timeout_seconds,
            f"less than the app's keep-alive ({self.app_keep_alive_seconds} s), or the ALB reuses connections "
            "the app has closed (502s)",
        )
        at_least("hsts_max_age_seconds", self.hsts_max_age_seconds, 0)

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None


class LoadBalancer(pulumi.ComponentResource):
    """An internet-facing ALB with its security group, listeners, target groups and routing rules.

    The security group admits the listener ports from ``ingress_cidrs`` and has no egress of its own:
    each service adds the egress rule to its own tasks (the client creates the connection).
    """

    arn: pulumi.Output[str]
    """ARN of the load balancer."""
    arn_suffix: pulumi.Output[str]
    """``app/<name>/<id>``: the CloudWatch dimension and half of the request-count scaling label."""
    dns_name: pulumi.Output[str]
    """Public DNS name (point a Route 53 alias at it with ``zone_id``)."""
    zone_id: pulumi.Output[str]
    """Canonical hosted zone of the load balancer, for alias records."""
    security_group_id: pulumi.Output[str]
    """The ALB's security group: services reference it in their ingress and add egress to it."""
    https: bool
    """True when an HTTPS listener exists (a certificate is configured)."""
    listener_mode: str
    """What the listeners do, in words (shown in the plan's outputs)."""
    listener_arn: pulumi.Output[str]
    """The listener the routing rules live on (HTTPS when there is one, else HTTP)."""
    http_listener_arn: pulumi.Output[str]
    """The port-80 listener (redirect or forward)."""
    https_listener_arn: pulumi.Output[str] | None
    """The port-443 listener, when HTTPS is on."""
    url: pulumi.Output[str]
    """``http(s)://<dns_name>``."""
    target_group_arns: dict[str, pulumi.Output[str]]
    """Target group ARN per key. Resolves only after a rule routes to the group: ECS refuses a target
    group that no listener uses, so a service consuming this waits for the rules."""
    target_group_arn_suffixes: dict[str, pulumi.Output[str]]
    """``targetgroup/<name>/<id>`` per key (for ALBRequestCountPerTarget)."""
    rule_priorities: dict[str, int]
    """Priority of each rule by name (plain values, deterministic)."""
    access_logs_bucket: pulumi.Output[str] | None
    """Bucket receiving access logs, when on."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:loadbalancer:LoadBalancer", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        self.https = args.https
        self.rule_priorities = allocate_priorities(args.rules, first=args.first_rule_priority)

        listener_ports = [80, 443] if args.https else [80]
        sg = self._create_security_group(listener_ports)
        self.security_group_id = sg.id

        self.access_logs_bucket = None
        log_dependencies: list[pulumi.Resource] = []
        access_logs: aws.lb.LoadBalancerAccessLogsArgs | None = None
        if args.spec.access_logs:
            bucket, log_dependencies = self._create_access_log_bucket()
            self.access_logs_bucket = pulumi.Output.from_input(bucket)
            access_logs = aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket, prefix=ACCESS_LOG_PREFIX, enabled=True)

        lb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=list(args.subnet_ids),
            security_groups=[sg.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=args.spec.deletion_protection,
            enable_http2=True,
            idle_timeout=args.idle_timeout_seconds,
            access_logs=access_logs,
            tags={"Name": name},
            # ELB checks that it can write to the bucket when access logs are switched on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_dependencies),
        )
        self.arn = lb.arn
        self.arn_suffix = lb.arn_suffix
        self.dns_name = lb.dns_name
        self.zone_id = lb.zone_id
        self.url = pulumi.Output.concat("https://" if args.https else "http://", lb.dns_name)

        target_groups = {spec.key: self._create_target_group(spec) for spec in args.target_groups}
        self.target_group_arn_suffixes = {k: tg.arn_suffix for k, tg in target_groups.items()}

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="application/json",
                status_code="404",
                message_body=json.dumps({"error": "not_found", "detail": "no route for this host and path"}),
            ),
        )
        if args.https:
            https_listener = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=lb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=args.spec.ssl_policy,
                certificate_arn=args.certificate_arn,
                default_actions=[not_found],
                routing_http_response_server_enabled=False,
                routing_http_response_x_content_type_options_header_value="nosniff",
                routing_http_response_strict_transport_security_header_value=(
                    f"max-age={args.hsts_max_age_seconds}; includeSubDomains" if args.hsts_max_age_seconds else None
                ),
                opts=child,
            )
            http_listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=lb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            protocol="HTTPS", port="443", status_code="HTTP_301"
                        ),
                    )
                ],
                routing_http_response_server_enabled=False,
                opts=child,
            )
            self.https_listener_arn = https_listener.arn
            rules_listener = https_listener
            self.listener_mode = (
                f"HTTPS :443 ({args.spec.ssl_policy}) with HTTP :80 redirecting to it (301); "
                f"{len(args.rules)} routing rules, default 404"
            )
        else:
            http_listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=lb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[not_found],
                routing_http_response_server_enabled=False,
                routing_http_response_x_content_type_options_header_value="nosniff",
                opts=child,
            )
            self.https_listener_arn = None
            rules_listener = http_listener
            self.listener_mode = (
                "HTTP only on :80 (no certificate: traffic is NOT encrypted; give a hosted zone or a certificate "
                f"ARN for HTTPS with redirect); {len(args.rules)} routing rules, default 404"
            )
        self.http_listener_arn = http_listener.arn
        self.listener_arn = rules_listener.arn

        rules_by_target: dict[str, list[aws.lb.ListenerRule]] = {k: [] for k in target_groups}
        for rule in args.rules:
            rules_by_target[rule.target].append(self._create_rule(rule, rules_listener.arn, target_groups[rule.target]))
        self.target_group_arns = {
            key: pulumi.Output.all(tg.arn, *[r.arn for r in rules_by_target[key]]).apply(lambda v: str(v[0]))
            for key, tg in target_groups.items()
        }

        self.register_outputs(
            {
                "arn": self.arn,
                "dnsName": self.dns_name,
                "securityGroupId": self.security_group_id,
                "listenerArn": self.listener_arn,
                "listenerMode": self.listener_mode,
                "targetGroupArns": self.target_group_arns,
            }
        )

    # -- security group ---------------------------------------------------------------------------
    def _create_security_group(self, ports: list[int]) -> aws.ec2.SecurityGroup:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Public ALB: listener ports from the configured client ranges; egress per service",
            revoke_rules_on_delete=True,
            tags={"Name": f"{name}-alb"},
            opts=child,
        )
        for port in ports:
            for i, cidr in enumerate(args.spec.ingress_cidrs):
                v6 = ipaddress.ip_network(cidr).version == 6
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-{'https' if port == 443 else 'http'}-in-{i + 1}",
                    security_group_id=sg.id,
                    description=f"{'HTTPS' if port == 443 else 'HTTP'} from {cidr}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=None if v6 else cidr,
                    cidr_ipv6=cidr if v6 else None,
                    opts=child,
                )
        return sg

    # -- access logs ------------------------------------------------------------------------------
    def _create_access_log_bucket(self) -> tuple[str, list[pulumi.Resource]]:
        name, args, ctx = self._name, self._args, self._args.context
        child = pulumi.ResourceOptions(parent=self)
        # An explicit, account- and region-qualified name: globally unique, and known at preview so
        # the bucket policy below is too.
        bucket_name = args.access_log_bucket_name or f"{name}-access-logs-{ctx.account_id}-{ctx.region}".lower()
        if len(bucket_name) > 63 or not re.match(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", bucket_name):
            raise ValueError(
                f"access log bucket name {bucket_name!r} is not a valid S3 name (3-63 of a-z, 0-9, '-'); "
                "use a shorter component name"
            )
        bucket = aws.s3.Bucket(
            f"{name}-logs",
            bucket=bucket_name,
            # Without deletion protection (dev) the stack can be destroyed with its logs.
            force_destroy=not args.spec.deletion_protection,
            tags={"Name": bucket_name},
            opts=child,
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-logs-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # ELB access logs support SSE-S3 only (not SSE-KMS).
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{ACCESS_LOG_PREFIX}/"),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.spec.access_log_expiration_days
                    ),
                ),
                # Incomplete multipart uploads are billed and invisible in listings: abort them
                # anywhere in the bucket, not only under the log prefix (an empty filter is the
                # whole bucket; checkov CKV_AWS_300 wants exactly that).
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7
                    ),
                ),
            ],
            opts=child,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=bucket.id,
            policy=json.dumps(access_log_bucket_policy(bucket_name, ctx)),
            # S3 rejects a bucket policy while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        return bucket_name, [bucket, policy, ownership, encryption]

    # -- target groups and rules ------------------------------------------------------------------
    def _create_target_group(self, spec: TargetGroupSpec) -> aws.lb.TargetGroup:
        hc = spec.health_check
        return aws.lb.TargetGroup(
            f"{self._name}-{spec.key}",
            vpc_id=self._args.vpc_id,
            target_type="ip",
            protocol="HTTP",
            protocol_version="HTTP1",
            port=spec.port,
            deregistration_delay=spec.deregistration_delay_seconds,
            slow_start=spec.slow_start_seconds,
            load_balancing_algorithm_type=spec.algorithm,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path=hc.path,
                matcher=hc.matcher,
                interval=hc.interval_seconds,
                timeout=hc.timeout_seconds,
                healthy_threshold=hc.healthy_threshold,
                unhealthy_threshold=hc.unhealthy_threshold,
            ),
            tags={"Name": f"{self._name}-{spec.key}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_rule(
        self, rule: RoutingRule, listener_arn: pulumi.Output[str], tg: aws.lb.TargetGroup
    ) -> aws.lb.ListenerRule:
        conditions: list[aws.lb.ListenerRuleConditionArgs] = []
        if rule.host_headers:
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(rule.host_headers))
                )
            )
        if rule.path_patterns:
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(rule.path_patterns))
                )
            )
        if rule.source_cidrs:
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    source_ip=aws.lb.ListenerRuleConditionSourceIpArgs(values=list(rule.source_cidrs))
                )
            )
        return aws.lb.ListenerRule(
            f"{self._name}-rule-{rule.name}",
            listener_arn=listener_arn,
            priority=self.rule_priorities[rule.name],
            conditions=conditions,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)],
            tags={"Name": f"{self._name}-{rule.name}"},
            opts=pulumi.ResourceOptions(parent=self),
        )


def access_log_bucket_policy(bucket_name: str, ctx: AwsContext) -> dict[str, object]:
    """The bucket policy ELB log delivery needs, plus TLS-only access.

    Uses the ``logdelivery.elasticloadbalancing.amazonaws.com`` service principal that AWS documents
    for ALB access logs (instead of the legacy per-region ELB account IDs), limited to this
    account's prefix.
    """
    bucket_arn = f"arn:{ctx.partition}:s3:::{bucket_name}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowElbLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{ctx.account_id}/*",
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
