"""Stack policies: service -> target group -> listener or rule -> load balancer, decided at preview too."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from tests.policies.builders import (
    alb,
    container,
    https_listener,
    redirect_listener,
    service,
    target_group,
    task_definition,
)
from tests.policies.support import Analyze, flagged, unknown_notes
from tests.support import ComponentRunner


def _topology() -> None:
    task = task_definition("task", [container()])
    web, api = target_group("web"), target_group("api")
    target_group("orphan")
    lb = alb("public")
    listener = https_listener("https", lb, web)
    redirect_listener("http", lb)
    aws.lb.ListenerRule(
        "api-rule",
        listener_arn=listener.arn,
        actions=[{"type": "forward", "forward": {"target_groups": [{"arn": api.arn, "weight": 1}]}}],
        conditions=[{"path_pattern": {"values": ["/api/*"]}}],
    )
    alb("idle")
    service("web-service", task, web)
    service("api-service", task, api)
    service("worker", task, None)


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_services_target_groups_and_load_balancers_are_connected(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    # At preview every ARN is unknown; the relations come from property dependencies.
    report = analyze(run_component(_topology, preview=preview))
    assert flagged(report, "ecs-service-behind-target-group") == {"worker"}
    assert flagged(report, "target-group-has-listener") == {"orphan"}
    assert flagged(report, "load-balancer-has-listener") == {"idle"}
    assert unknown_notes(report) == []


def test_literal_arns_are_matched_by_value(run_component: ComponentRunner, analyze: Analyze) -> None:
    """A listener wired with a typed-in ARN (no property dependency) is matched by the known ARN."""
    # The mock cloud is deterministic: learn the target group's ARN, then reference it literally.
    arn = run_component(lambda: target_group("shared")).one("aws:lb/targetGroup:TargetGroup").outputs["arn"]

    def program() -> None:
        target_group("shared")
        target_group("unreferenced")
        aws.lb.Listener(
            "by-arn",
            load_balancer_arn="arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/other/1",
            port=443,
            protocol="HTTPS",
            default_actions=[{"type": "forward", "target_group_arn": arn}],
        )

    report = analyze(run_component(program))
    assert flagged(report, "target-group-has-listener") == {"unreferenced"}
