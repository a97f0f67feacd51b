"""Stack policies on how the pieces connect: service -> target group -> listener (or rule) -> load balancer.

A health check only protects users when it sits on the path traffic takes. These relations are read
from property dependencies (known at preview), falling back to comparing known ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from . import resource_types as t
from .props import as_list, as_mapping, is_set
from .rules import Report, StackView, referenced, stack_policy


def _service_behind_target_group(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for service in view.of_type(t.ECS_SERVICE):
        with view.reading(service):
            attachments = [as_mapping(a) for a in as_list(service.props.get("loadBalancers"))]
            if not attachments or not all(is_set(a, "targetGroupArn") for a in attachments):
                report(
                    f"Service {service.name} is not registered with a target group (loadBalancers[].targetGroupArn): "
                    "no load balancer health check watches its tasks.",
                    service.urn,
                )


def _target_group_reached(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    listeners = view.of_type(t.LISTENERS)
    rules = view.of_type(t.LISTENER_RULES)
    for group in view.of_type(t.TARGET_GROUPS):
        with view.reading(group):
            reached = any(
                group.urn in referenced(listener, "defaultActions", [group]) for listener in listeners
            ) or any(group.urn in referenced(rule, "actions", [group]) for rule in rules)
            if not reached:
                report(
                    f"Target group {group.name} is not the target of any listener or listener rule: "
                    "its targets receive no traffic.",
                    group.urn,
                )


def _load_balancer_listens(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    listeners = view.of_type(t.LISTENERS)
    for lb in view.of_type(t.LOAD_BALANCERS):
        with view.reading(lb):
            if not any(lb.urn in referenced(listener, "loadBalancerArn", [lb]) for listener in listeners):
                report(f"Load balancer {lb.name} has no listener: it accepts no traffic but costs money.", lb.urn)


def policies() -> Sequence[StackValidationPolicy]:
    mandatory = EnforcementLevel.MANDATORY
    return [
        stack_policy(
            name="ecs-service-behind-target-group",
            description="Every ECS service is registered with a target group.",
            check=_service_behind_target_group,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="loadBalancers=[{targetGroupArn, containerName, containerPort}] on the service.",
        ),
        stack_policy(
            name="target-group-has-listener",
            description="Every target group is forwarded to by a listener or a listener rule.",
            check=_target_group_reached,
            enforcement=mandatory,
            severity=Severity.MEDIUM,
            remediation="Forward to the target group from a listener's default action or a listener rule.",
        ),
        stack_policy(
            name="load-balancer-has-listener",
            description="Every load balancer has at least one listener.",
            check=_load_balancer_listens,
            enforcement=mandatory,
            severity=Severity.MEDIUM,
            remediation="Add an aws.lb.Listener for the load balancer, or remove the load balancer.",
        ),
    ]
