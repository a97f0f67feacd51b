"""IAM (``aws:iam/...``): roles, policies, inline policies, attachments, instance profiles, and
``getPolicyDocument`` rendered as the IAM JSON AWS stores."""

from __future__ import annotations

import json
from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import Outputs, invoke, outputs


@outputs("aws:iam/role:Role")
def _role(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    role_name = physical_name(name, inputs)
    return role_name, {
        "arn": cloud.arn("iam", f"role{inputs.get('path') or '/'}{role_name}", region=False),
        "name": role_name,
        "uniqueId": f"AROA{hexid(name, 17).upper()}",
    }


@outputs("aws:iam/policy:Policy")
def _policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    policy_name = physical_name(name, inputs)
    arn = cloud.arn("iam", f"policy/{policy_name}", region=False)
    return arn, {"arn": arn, "name": policy_name, "policyId": f"ANPA{hexid(name).upper()}"}


@outputs("aws:iam/rolePolicy:RolePolicy")
def _role_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    policy_name = physical_name(name, inputs)
    return f"{inputs.get('role', 'role')}:{policy_name}", {"name": policy_name}


@outputs("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _role_policy_attachment(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('role', 'role')}-{hexid(name, 8)}", {}


@outputs("aws:iam/instanceProfile:InstanceProfile")
def _instance_profile(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    profile = physical_name(name, inputs, max_length=128)
    return profile, {
        "arn": cloud.arn("iam", f"instance-profile{inputs.get('path') or '/'}{profile}", region=False),
        "name": profile,
        "uniqueId": f"AIPA{hexid(name, 17).upper()}",
    }


def _iam_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """One getPolicyDocument statement (camelCase args) rendered as the IAM JSON AWS stores."""

    def one_or_many(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else sorted(values)

    out: dict[str, Any] = {}
    if statement.get("sid"):
        out["Sid"] = statement["sid"]
    out["Effect"] = statement.get("effect") or "Allow"
    for arg, key in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                     ("notResources", "NotResource")):  # fmt: skip
        if statement.get(arg):
            out[key] = one_or_many(list(statement[arg]))
    for arg, key in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if statement.get(arg):
            principal: dict[str, list[str]] = {}
            for p in statement[arg]:
                principal.setdefault(p["type"], []).extend(p["identifiers"])
            # {"type": "*", "identifiers": ["*"]} is how IAM's anonymous principal "*" is written
            out[key] = "*" if "*" in principal else {k: one_or_many(v) for k, v in principal.items()}
    if statement.get("conditions"):
        condition: dict[str, dict[str, Any]] = {}
        for c in statement["conditions"]:
            condition.setdefault(c["test"], {})[c["variable"]] = one_or_many(list(c["values"]))
        out["Condition"] = condition
    if "Resource" not in out and "NotResource" not in out and "Principal" not in out:
        out["Resource"] = "*"
    return out


@invoke("aws:iam/getPolicyDocument:getPolicyDocument")
def _policy_document(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    document = {"Version": args.get("version") or "2012-10-17",
                "Statement": [_iam_statement(s) for s in args.get("statements") or []]}  # fmt: skip
    text = json.dumps(document, indent=2)
    return {"id": hexid(text, 10), "json": text, "minifiedJson": json.dumps(document, separators=(",", ":"))}
