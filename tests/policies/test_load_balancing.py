"""Load balancer policies: target group health checks, HTTPS-only ALBs, TLS policy, hardening, no Classic ELB."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws
import pytest

from tests.policies.builders import HEALTH_CHECK, alb, https_listener, redirect_listener, target_group
from tests.policies.support import Analyze, flagged, messages
from tests.support import ComponentRunner


def _health_check(**changes: Any) -> dict[str, Any]:
    check = {**HEALTH_CHECK, **changes}
    return {k: v for k, v in check.items() if v is not None}


def _target_groups() -> None:
    target_group("alb-good")
    target_group("grpc-good", protocol_version="GRPC", health_check=_health_check(matcher="0-12"))
    target_group(
        "nlb-good",
        protocol="TCP",
        health_check=_health_check(protocol="TCP", path=None, matcher=None, timeout=10, interval=30),
    )
    target_group("nlb-http-good", protocol="TCP", health_check=_health_check(matcher="200-599"))
    target_group(
        "gwlb-good",
        port=6081,
        protocol="GENEVE",
        health_check=_health_check(protocol="TCP", port="80", path=None, matcher=None),
    )
    aws.lb.TargetGroup("no-block", port=8080, protocol="HTTP", target_type="ip", vpc_id="vpc-0123")
    target_group("disabled", health_check=_health_check(enabled=False))
    target_group("implicit", health_check={"enabled": True, "path": "/healthz"})
    target_group("interval-4s", health_check=_health_check(interval=4))
    target_group("timeout-not-below-interval", health_check=_health_check(interval=10, timeout=10))
    target_group("thresholds-11", health_check=_health_check(healthy_threshold=11))
    target_group("no-path-matcher", health_check=_health_check(path=None, matcher=None))
    target_group("matcher-5xx", health_check=_health_check(matcher="200-599"))
    target_group("tcp-on-alb", health_check=_health_check(protocol="TCP", path=None, matcher=None))
    target_group("gwlb-matcher-4xx", port=6081, protocol="GENEVE", health_check=_health_check(matcher="200-499"))


def test_target_groups_have_explicit_health_checks_in_range(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_target_groups))
    assert flagged(report, "lb-target-group-health-check") == {
        "no-block",
        "disabled",
        "implicit",
        "interval-4s",
        "timeout-not-below-interval",
        "thresholds-11",
        "no-path-matcher",
        "matcher-5xx",
        "tcp-on-alb",
        "gwlb-matcher-4xx",
    }
    assert messages(report, "lb-target-group-health-check", "implicit") == [
        "healthCheck leaves interval, timeout, healthyThreshold, unhealthyThreshold, protocol to AWS defaults; "
        "set them explicitly.",
        "healthCheck.matcher is not set; name the healthy codes explicitly (200-499).",
    ]
    assert "outside AWS's range 5..300" in messages(report, "lb-target-group-health-check", "interval-4s")[0]
    assert "'200-599' is outside 200-499" in messages(report, "lb-target-group-health-check", "matcher-5xx")[0]
    assert "'200-499' is outside 200-399" in messages(report, "lb-target-group-health-check", "gwlb-matcher-4xx")[0]


def _load_balancers() -> None:
    group = target_group("web")
    good = alb("good-alb")
    https_listener("good-https", good, group)
    redirect_listener("good-http", good)

    bad = alb("bad-alb", drop_invalid_header_fields=False, enable_deletion_protection=False, access_logs=None)
    forwarding = aws.lb.Listener(
        "plain-http",
        load_balancer_arn=bad.arn,
        port=80,
        protocol="HTTP",
        default_actions=[{"type": "forward", "target_group_arn": group.arn}],
    )
    https_listener("old-tls", bad, group, ssl_policy="ELBSecurityPolicy-2016-08", port=8443)
    https_listener("default-tls", bad, group, ssl_policy=None, port=9443)
    aws.lb.ListenerRule(
        "api-over-http",
        listener_arn=forwarding.arn,
        actions=[{"type": "forward", "target_group_arn": group.arn}],
        conditions=[{"path_pattern": {"values": ["/api/*"]}}],
    )
    redirecting = redirect_listener("redirect-with-leak", good, port=8080)
    aws.lb.ListenerRule(
        "leaky-rule",
        listener_arn=redirecting.arn,
        actions=[{"type": "forward", "target_group_arn": group.arn}],
        conditions=[{"path_pattern": {"values": ["/healthz"]}}],
    )
    aws.lb.LoadBalancer("only-http-alb", subnets=["subnet-a"], drop_invalid_header_fields=True)

    nlb = aws.lb.LoadBalancer(
        "good-nlb", load_balancer_type="network", subnets=["subnet-a"], enable_cross_zone_load_balancing=True
    )
    https_listener("tls", nlb, group, protocol="TLS", ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    aws.lb.LoadBalancer("zonal-nlb", load_balancer_type="network", subnets=["subnet-a"])
    aws.lb.LoadBalancer("zonal-gwlb", load_balancer_type="gateway", subnets=["subnet-a"])
    aws.elb.LoadBalancer(
        "classic",
        availability_zones=["eu-west-1a"],
        listeners=[{"instance_port": 80, "instance_protocol": "http", "lb_port": 80, "lb_protocol": "http"}],
    )


@pytest.fixture
def lb_report(run_component: ComponentRunner, analyze: Analyze) -> Any:
    return analyze(run_component(_load_balancers))


def test_albs_serve_https_and_http_only_redirects(lb_report: Any) -> None:
    assert flagged(lb_report, "alb-https-with-redirect") == {
        "only-http-alb",  # no HTTPS listener
        "plain-http",  # forwards plain HTTP
        "api-over-http",  # a rule on the HTTP listener forwards plain HTTP
        "leaky-rule",  # a rule on a redirecting HTTP listener still forwards
    }
    assert "has no HTTPS listener" in messages(lb_report, "alb-https-with-redirect", "only-http-alb")[0]


def test_https_and_tls_listeners_use_a_tls13_policy(lb_report: Any) -> None:
    assert flagged(lb_report, "listener-tls-policy") == {"old-tls", "default-tls"}
    assert "accepts TLS 1.0" in messages(lb_report, "listener-tls-policy", "default-tls")[0]


def test_albs_drop_invalid_headers_are_protected_and_log(lb_report: Any) -> None:
    assert flagged(lb_report, "alb-drop-invalid-headers") == {"bad-alb"}
    assert flagged(lb_report, "alb-deletion-protection") == {"bad-alb", "only-http-alb"}
    assert flagged(lb_report, "alb-access-logs") == {"bad-alb", "only-http-alb"}


def test_nlb_and_gwlb_balance_across_zones(lb_report: Any) -> None:
    assert flagged(lb_report, "nlb-gwlb-cross-zone") == {"zonal-nlb", "zonal-gwlb"}


def test_no_classic_load_balancers(lb_report: Any) -> None:
    assert flagged(lb_report, "no-classic-load-balancers") == {"classic"}
