"""One answer per resource type and invoke, each in the module named after its token."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from pulumi.runtime.mocks import MockCallArgs

from mockcloud import registry
from mockcloud.cloud import Cloud
from mockcloud.mocks import AwsMocks, UnansweredInvokeError
from mockcloud.registry import (
    INVOKE_ANSWERS,
    RESOURCE_OUTPUTS,
    DuplicateRegistrationError,
    OutputMaker,
    Outputs,
    Registry,
)


def _first(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return "first", {}


def _second(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return "second", {}


def test_a_second_answer_for_the_same_type_is_an_error_naming_both() -> None:
    answers: Registry[OutputMaker] = Registry("resource type")
    answers.decorator("aws:ec2/launchTemplate:LaunchTemplate")(_first)
    with pytest.raises(DuplicateRegistrationError) as raised:
        answers.decorator("aws:ec2/launchTemplate:LaunchTemplate")(_second)
    message = str(raised.value)
    assert "'aws:ec2/launchTemplate:LaunchTemplate' is answered twice" in message
    assert f"{__name__}._first" in message
    assert f"{__name__}._second" in message
    assert answers.get("aws:ec2/launchTemplate:LaunchTemplate") is _first, "the first answer stays"


def test_loading_the_providers_again_registers_nothing_twice() -> None:
    registry.load_all()
    before = (len(RESOURCE_OUTPUTS), len(INVOKE_ANSWERS))
    registry.load_all()
    assert (len(RESOURCE_OUTPUTS), len(INVOKE_ANSWERS)) == before
    assert before[0] > 60
    assert before[1] > 5


def test_every_answer_lives_in_the_module_named_after_its_token() -> None:
    registry.load_all()
    misplaced = [
        f"{entry.token} is answered by {entry.origin}, expected in {registry.module_for(entry.token)}"
        for answers in (RESOURCE_OUTPUTS, INVOKE_ANSWERS)
        for entry in answers
        if entry.answer.__module__ != registry.module_for(entry.token)
    ]
    assert not misplaced, "\n".join(misplaced)


@pytest.mark.parametrize(
    ("token", "module"),
    [
        ("aws:ec2/vpc:Vpc", "mockcloud.providers.aws.ec2"),
        ("aws:index/getRegion:getRegion", "mockcloud.providers.aws.index"),
        ("docker:index/image:Image", "mockcloud.providers.docker.index"),
        ("random:index/randomPassword:RandomPassword", "mockcloud.providers.random.index"),
    ],
)
def test_a_token_names_its_module(token: str, module: str) -> None:
    assert registry.module_for(token) == module
    importlib.import_module(module)


def test_an_unanswered_invoke_names_the_module_to_add_it_to() -> None:
    mocks = AwsMocks("eu-west-1")
    args = MockCallArgs(token="aws:rds/getEngineVersion:getEngineVersion", args={}, provider="")
    with pytest.raises(UnansweredInvokeError, match=r"add one in mockcloud/providers/aws/rds\.py"):
        mocks.call(args)
