"""Required tags, applied once through the AWS provider's ``defaultTags``.

The stacks set ``aws:defaultTags`` in their stack file, so tags live on the provider, not on each
resource. The engine analyzes the provider as a resource of its own (``pulumi:providers:aws``, for the
default provider too, with the ``aws:`` config as inputs: objects arrive JSON-encoded) and passes it
along with every resource it manages. So:

* a provider must carry every required tag with a non-empty value in ``defaultTags.tags``;
* a resource that sets its own ``tags`` must not blank a required tag, and together with its
  provider's default tags must carry them all.

Resources without a ``tags`` input inherit the provider's tags (or are not taggable), so they are
covered by the provider's check and not reported one by one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from . import resource_types as t
from .props import as_list, as_mapping, is_set, json_document
from .rules import Report, resource_policy

DEFAULT_REQUIRED_TAGS: Final = ("Project", "Environment", "Owner", "CostCenter", "ManagedBy")


def default_tags(provider_props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``defaultTags.tags`` of an AWS provider (an object, or the JSON string the engine passes); None if invalid."""
    if not is_set(provider_props, "defaultTags"):
        return {}
    try:
        document = json_document(provider_props["defaultTags"])
    except json.JSONDecodeError:
        return None
    return as_mapping(as_mapping(document).get("tags"))


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _required(args: ResourceValidationArgs) -> list[str]:
    return [str(tag) for tag in as_list(args.get_config().get("requiredTags"))] or list(DEFAULT_REQUIRED_TAGS)


def _validate(args: ResourceValidationArgs, report: Report) -> None:
    required = _required(args)
    if args.resource_type == t.AWS_PROVIDER:
        tags = default_tags(args.props)
        if tags is None:
            report("defaultTags is not valid JSON.")
            return
        missing = [tag for tag in required if _blank(tags.get(tag))]
        if missing:
            report(
                f"The AWS provider's defaultTags lack {', '.join(missing)}: resources it creates are untagged. "
                "Set aws:defaultTags in the stack file (or default_tags on an explicit provider)."
            )
        return
    if not is_set(args.props, "tags"):
        return
    inherited: Mapping[str, Any] = {}
    if args.provider is not None and args.provider.resource_type == t.AWS_PROVIDER:
        inherited = default_tags(args.provider.props) or {}
    own = as_mapping(args.props["tags"])
    own_keys = set(own.keys())
    missing = [tag for tag in required if _blank(own[tag] if tag in own_keys else inherited.get(tag))]
    if missing:
        report(f"Required tags missing or blank: {', '.join(missing)} (from the resource's tags and its provider).")


def policies() -> Sequence[ResourceValidationPolicy]:
    return [
        resource_policy(
            name="required-tags",
            description="AWS resources carry the required tags (through the provider's defaultTags).",
            types=lambda token: token == t.AWS_PROVIDER or token.startswith("aws:"),
            check=_validate,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.LOW,
            remediation="Set aws:defaultTags.tags with every required tag in the stack file.",
            config_schema=PolicyConfigSchema(
                properties={
                    "requiredTags": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": list(DEFAULT_REQUIRED_TAGS),
                        "description": "Tag keys every AWS resource must carry, with a non-empty value.",
                    }
                }
            ),
        ),
    ]
