"""IAM policy documents (identity, trust and resource-based) as the policies read them.

Documents arrive as JSON strings (``json.dumps`` in the program) or as objects; statements, actions,
resources and principals may each be one value or a list. ``statements()`` normalises them so every
policy reasons about the same shape. The grammar follows the IAM JSON policy reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .props import as_mapping, json_document

# Condition keys that narrow *who* (or from where) a request may come. A public principal is only
# acceptable when one of these pins it down with a positive operator; a condition such as
# aws:SecureTransport says how, not who, and leaves the statement open to everyone.
IDENTITY_CONDITION_KEYS: Final = frozenset(
    key.lower()
    for key in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceIp",
        "aws:VpcSourceIp",
        "aws:userid",
        "aws:username",
        "kms:CallerAccount",
        "sts:ExternalId",
    )
)
# Operators that restrict to the listed values (the Not* forms and ForAllValues, which also matches
# a request without the key, open a statement up instead).
_POSITIVE_OPERATOR: Final = re.compile(
    r"^(ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress)$"
)
_ANY_ADDRESS: Final = frozenset({"0.0.0.0/0", "::/0"})
_WILDCARDS_ONLY: Final = re.compile(r"^[*?]+$")


def pins_someone(value: str) -> bool:
    """Whether one condition value narrows the callers: ``*``, ``0.0.0.0/0``, ``::/0`` and an ARN whose
    account is a wildcard (``arn:aws:iam::*:role/*``) match every caller, so they pin no one.

    The values of one condition key are alternatives (any may match), so a key pins only when all do.
    """
    value = value.strip()
    if not value or _WILDCARDS_ONLY.match(value) or value in _ANY_ADDRESS:
        return False
    if value.lower().startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) < 6:
            return not any(c in value for c in "*?")  # `arn:aws:*`: every service, account and resource
        account = parts[4]
        return not (account and _WILDCARDS_ONLY.match(account))
    return True


ACCOUNT_ROOT: Final = re.compile(r"^(arn:aws[a-z-]*:iam::)?(?P<account>\d{12})(:root)?$")


def as_strings(value: Any) -> list[str]:
    """A policy element that is one string or a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value if isinstance(v, str)]
    return []


@dataclass(frozen=True)
class Statement:
    """One statement, normalised: every element a list (``principals`` by type: AWS, Service, ...)."""

    index: int
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: Mapping[str, tuple[str, ...]]
    """``{"*": ("*",)}`` for ``"Principal": "*"``; ``{}`` for identity policies."""
    not_principal: bool
    conditions: Mapping[str, Mapping[str, Any]]

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"

    def public_principal(self) -> bool:
        """``"*"`` or ``{"AWS": "*"}`` (anyone, in any account, or anonymous)."""
        return "*" in self.principals.get("*", ()) or "*" in self.principals.get("AWS", ())

    def restricted_by_condition(self) -> bool:
        """A positive condition on a key that names who or where (an account, org, ARN, VPC, IP)."""
        for operator, pairs in self.conditions.items():
            if not _POSITIVE_OPERATOR.match(operator):
                continue
            for key, value in as_mapping(pairs).items():
                values = as_strings(value)
                if str(key).lower() in IDENTITY_CONDITION_KEYS and values and all(pins_someone(v) for v in values):
                    return True
        return False


def statements(document: Any) -> Iterator[Statement]:
    """The statements of a policy document (a JSON string or an object); nothing for anything else."""
    try:
        parsed = json_document(document)
    except (json.JSONDecodeError, TypeError):
        return
    raw = as_mapping(parsed).get("Statement")
    items = [raw] if isinstance(raw, Mapping) else list(raw) if isinstance(raw, Sequence) else []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        principal = item.get("Principal", item.get("NotPrincipal"))
        principals: dict[str, tuple[str, ...]] = {}
        if principal == "*":
            principals["*"] = ("*",)
        elif isinstance(principal, Mapping):
            principals = {str(kind): tuple(as_strings(value)) for kind, value in principal.items()}
        yield Statement(
            index=index,
            sid=str(item.get("Sid", "")),
            effect=str(item.get("Effect", "")),
            actions=tuple(as_strings(item.get("Action"))),
            not_actions=tuple(as_strings(item.get("NotAction"))),
            resources=tuple(as_strings(item.get("Resource"))),
            not_resources=tuple(as_strings(item.get("NotResource"))),
            principals=principals,
            not_principal="NotPrincipal" in item,
            conditions={str(k): as_mapping(v) for k, v in as_mapping(item.get("Condition")).items()},
        )


def is_valid_json_document(document: Any) -> bool:
    try:
        return isinstance(json_document(document), Mapping)
    except (json.JSONDecodeError, TypeError):
        return False
