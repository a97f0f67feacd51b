"""Required tags through the provider's defaultTags: default provider, explicit provider, resource overrides."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from offline.policy.wire import analysis_input
from tests.policies.support import Analyze, flagged, messages
from tests.support import ComponentRunner

TAGS = {"Project": "p", "Environment": "dev", "Owner": "team", "CostCenter": "eng", "ManagedBy": "pulumi"}


def _resources() -> None:
    aws.cloudwatch.LogGroup("untagged-but-inherits", retention_in_days=7)
    aws.cloudwatch.LogGroup("extra-tags", retention_in_days=7, tags={"Name": "logs"})
    aws.cloudwatch.LogGroup("blanks-owner", retention_in_days=7, tags={"Owner": ""})


def test_default_provider_with_default_tags_passes(run_component: ComponentRunner, analyze: Analyze) -> None:
    config = {"aws:defaultTags": json.dumps({"tags": TAGS})}
    run = run_component(_resources, config=config)
    # The engine's default provider carries the stack's aws: config, objects JSON-encoded.
    provider = analysis_input(run).providers[0]
    assert provider.name == "default_7_51_1"
    assert json.loads(provider.inputs["defaultTags"])["tags"] == TAGS
    report = analyze(run)
    assert flagged(report, "required-tags") == {"blanks-owner"}
    assert "Owner" in messages(report, "required-tags", "blanks-owner")[0]


def test_missing_default_tags_are_reported_once_on_the_provider(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    config = {"aws:defaultTags": json.dumps({"tags": {k: v for k, v in TAGS.items() if k != "CostCenter"}})}
    report = analyze(run_component(_resources, config=config))
    # Resources with their own tags miss it too; resources without tags are covered by the provider.
    assert flagged(report, "required-tags") == {"default_7_51_1", "extra-tags", "blanks-owner"}
    assert "lack CostCenter" in messages(report, "required-tags", "default_7_51_1")[0]


def _explicit_providers() -> None:
    tagged = aws.Provider("tagged", region="eu-west-1", default_tags={"tags": TAGS})
    untagged = aws.Provider("untagged", region="eu-west-1")
    aws.cloudwatch.LogGroup(
        "via-tagged", retention_in_days=7, tags={"Name": "a"}, opts=pulumi.ResourceOptions(provider=tagged)
    )
    aws.cloudwatch.LogGroup(
        "via-untagged", retention_in_days=7, tags={"Name": "b"}, opts=pulumi.ResourceOptions(provider=untagged)
    )


def test_explicit_providers_are_checked_like_the_default_one(run_component: ComponentRunner, analyze: Analyze) -> None:
    run = run_component(_explicit_providers)
    assert {p.name for p in analysis_input(run).provider_of.values()} == {"tagged", "untagged"}
    report = analyze(run)
    assert flagged(report, "required-tags") == {"untagged", "via-untagged"}
