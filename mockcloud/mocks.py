"""The ``pulumi.runtime.Mocks`` the program runs against: answers from a pretend AWS account.

Resource outputs and invoke results come from the provider modules in ``mockcloud/providers/`` (one
per service, registered in ``mockcloud.registry``), with camelCase keys as the SDK expects. A type
without an answer gets a generic ID (and, for AWS, an ARN); an invoke without one is an error,
because the program would otherwise compute with made-up data.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from mockcloud import registry
from mockcloud.cloud import ACCOUNT_ID, Cloud, hexid
from mockcloud.registry import INVOKE_ANSWERS, RESOURCE_OUTPUTS, Outputs


class UnansweredInvokeError(LookupError):
    """The program called a function the mock cloud has no answer for."""


class AwsMocks(pulumi.runtime.Mocks):
    """Answers registrations and invokes like an AWS account in ``region`` would."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID) -> None:
        registry.load_all()
        self.cloud = Cloud(region=region, account_id=account_id)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:  # components have no cloud state
            return None, {}
        maker = RESOURCE_OUTPUTS.get(args.typ)
        if maker is None:
            resource_id, extra = _generic(self.cloud, args.typ, args.name, dict(args.inputs))
        else:
            resource_id, extra = maker(self.cloud, args.name, dict(args.inputs))
        return resource_id, {**args.inputs, **extra}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answer = INVOKE_ANSWERS.get(args.token)
        if answer is None:
            where = registry.module_for(args.token).replace(".", "/") + ".py"
            raise UnansweredInvokeError(f"the mock cloud has no answer for invoke {args.token!r}; add one in {where}")
        try:
            return answer(self.cloud, dict(args.args)), []
        except registry.InvokeFailed as failure:
            return {}, [("", str(failure))]


def _generic(cloud: Cloud, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    """Fallback for types without a maker: an ID, and for AWS types an ARN in the module's namespace."""
    rid = f"{name}-{hexid(name, 8)}"
    package, module = type_.split(":")[0], type_.split(":")[1].split("/")[0]
    if package != "aws":
        return rid, {}
    return rid, {"arn": cloud.arn(module, f"{type_.rsplit(':', 1)[-1].lower()}/{rid}")}
