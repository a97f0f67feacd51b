"""The whole program, once per committed stack file."""

from __future__ import annotations

from mockcloud.monitor import STACK_TYPE
from mockcloud.runner import StackRun
from stack import exports
from tests.support import cached_run


def test_program_runs_and_exports_the_network(stack_run: StackRun) -> None:
    outputs = stack_run.outputs
    assert outputs[exports.ENVIRONMENT] == stack_run.stack
    assert outputs[exports.VPC_ID].startswith("vpc-")
    azs = outputs[exports.AVAILABILITY_ZONES]
    for key in (exports.PUBLIC_SUBNET_IDS, exports.PRIVATE_SUBNET_IDS, exports.ISOLATED_SUBNET_IDS):
        assert len(outputs[key]) == len(azs)
        assert all(s.startswith("subnet-") for s in outputs[key])


def test_no_duplicate_urns_and_every_resource_has_a_parent(stack_run: StackRun) -> None:
    # The mock engine does not reject duplicate names; a real `pulumi up` would.
    urns = [r.urn for r in stack_run.resources]
    assert len(urns) == len(set(urns))
    stack_urn = stack_run.stack_urn
    for r in stack_run.resources:
        if r.type != STACK_TYPE:
            assert r.parent, f"{r.urn} has no parent"
        if r.custom:
            assert r.parent != stack_urn, f"{r.urn} should live inside a component"


def test_dev_is_small_prod_is_highly_available() -> None:
    dev, prod = cached_run("dev"), cached_run("prod")
    assert len(dev.outputs[exports.AVAILABILITY_ZONES]) == 2
    assert dev.outputs[exports.NAT_GATEWAY_COUNT] == 1
    assert len(prod.outputs[exports.AVAILABILITY_ZONES]) == 3
    assert prod.outputs[exports.NAT_GATEWAY_COUNT] == 3
    assert prod.of_type("aws:ec2/flowLog:FlowLog")
    assert not dev.of_type("aws:ec2/flowLog:FlowLog")


def test_preview_leaves_computed_outputs_unknown() -> None:
    run = cached_run("dev", preview=True)
    assert exports.VPC_ID in run.unknown_outputs
    assert run.outputs[exports.AVAILABILITY_ZONES] == ["eu-west-1a", "eu-west-1b"]
    vpc = run.one("aws:ec2/vpc:Vpc")
    assert "arn" in vpc.unknown_outputs
