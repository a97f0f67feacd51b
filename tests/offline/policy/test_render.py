"""The policy report as text and Markdown: by level, then policy, then resource."""

from __future__ import annotations

from offline.policy.render import format_report, markdown_report
from tests.offline.policy.programs import task_and_cluster
from tests.policies.support import Analyze
from tests.support import ComponentRunner


def test_report_groups_by_level_policy_and_resource(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(task_and_cluster), config={"all": "advisory", "ecs-container-insights": "disabled"})
    assert report.passed
    text = format_report(report)
    assert "Mandatory violations (block the deployment): 0" in text
    assert (
        "  required-tags (1)\n    - pulumi:providers:aws::default_7_51_1: The AWS provider's defaultTags lack" in text
    )
    assert "Disabled policies: 1\n  ecs-container-insights" in text
    assert "Result: PASSED" in text
    assert "| advisory | `required-tags` | `pulumi:providers:aws::default_7_51_1` |" in markdown_report(report)
