"""What a plan would replace or delete among the resources that hold data, and the settings that do it.

``pulumi preview`` marks a replacement ``+-`` with the input that forces it (a ForceNew property of the
provider schema). For a database, a cache, a repository or a KMS key that is not a detail: the
replacement starts empty (or, for a key, leaves what it encrypted unreadable once the deleted key's
waiting period ends). The offline plan has no deployed state to diff against, so it compares the plan
it is about to write with the last one it wrote for the stack (``build/plan-<stack>.json``, or
``--previous``, e.g. the main branch's plan in CI): for each resource of a type below that both plans
have, a changed replacement-forcing input means REPLACED; a resource the new plan no longer has is
DELETED. Values only known after deployment are compared by where they come from (the property's
dependencies), so a key that is still the same key is no change.

Without a previous plan the summary still names, for each such resource the stack has, the settings
whose change would replace it (docs/keys.md, "What replaces what").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

UNKNOWN: Final = "[unknown]"
"""How the plan document writes a value known only after deployment (offline.plan_output.UNKNOWN)."""


@dataclass(frozen=True)
class Stateful:
    """A resource type that holds data, and what replaces it."""

    what: str
    """What is lost (or must be restored) when it is replaced."""
    replaced_by: tuple[str, ...]
    """Provider inputs whose change forces a new resource (ForceNew in the terraform-provider-aws schema
    the pulumi-aws bridge uses: internal/service/rds/instance.go, elasticache/replication_group.go,
    elasticache/cluster.go, ecr/repository.go, kms/key.go)."""
    settings: tuple[str, ...]
    """This program's config keys that feed those inputs (each proved by tests/offline/test_replacements.py)."""


STATEFUL: Final[Mapping[str, Stateful]] = {
    "aws:rds/instance:Instance": Stateful(
        "the database: a new, empty instance (restore it from the final snapshot)",
        (
            "kmsKeyId",
            "storageEncrypted",
            "identifier",
            "dbName",
            "username",
            "engine",
            "availabilityZone",
            "characterSetName",
            "timezone",
            "snapshotIdentifier",
        ),
        ("customerManagedKeys", "dbKmsKeyArn", "dbName", "dbUsername"),
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": Stateful(
        "the cache: a new, empty replication group (restore it from a snapshot)",
        (
            "kmsKeyId",
            "atRestEncryptionEnabled",
            "replicationGroupId",
            "port",
            "subnetGroupName",
            "dataTieringEnabled",
            "networkType",
            "snapshotArns",
            "snapshotName",
            "globalReplicationGroupId",
        ),
        ("customerManagedKeys", "cacheKmsKeyArn"),
    ),
    "aws:elasticache/cluster:Cluster": Stateful(
        "the Memcached cluster: new nodes, every cached item gone",
        ("clusterId", "engine", "port", "subnetGroupName", "snapshotArns", "snapshotName"),
        (),
    ),
    "aws:ecr/repository:Repository": Stateful(
        "the repository: a new, empty one (push the images again)",
        ("name", "encryptionConfigurations"),
        ("ecrKmsKey",),
    ),
    "aws:kms/key:Key": Stateful(
        "the key: what it encrypted becomes unreadable when the old key's deletion window ends",
        ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
        ("customerManagedKeys", "ecrKmsKey"),
    ),
}


@dataclass(frozen=True)
class Change:
    """One resource that holds data and would be replaced or deleted."""

    kind: Literal["REPLACED", "DELETED"]
    type: str
    name: str
    properties: tuple[tuple[str, Any, Any], ...]
    """``(input, before, after)`` of each replacement-forcing input that changes."""

    @property
    def what(self) -> str:
        return STATEFUL[self.type].what


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing a plan with the previous one (or of having none to compare with)."""

    previous: str | None
    """Where the previous plan was read from; None when there was none."""
    changes: tuple[Change, ...] = ()
    settings: tuple[tuple[str, Any, Any], ...] = ()
    """Config keys whose value differs from the previous plan's: ``(key, before, after)``."""
    problem: str | None = None
    """Why the previous plan could not be compared (unreadable, another stack)."""


def _short(value: Any) -> str:
    if value is None:
        return "(not set)"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 70 else f"{text[:33]}...{text[-33:]}"


def _sources(resource: Mapping[str, Any], prop: str) -> list[str]:
    return sorted(resource.get("propertyDependencies", {}).get(prop, []))


def _has_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return bool(value == UNKNOWN)


def _alike(old: Any, new: Any) -> bool:
    """Equal, where a value known only after deployment (in either plan) stands for any value."""
    if UNKNOWN in (old, new) and old is not None and new is not None:
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_alike(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_alike(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


def _differs(before: Mapping[str, Any], after: Mapping[str, Any], prop: str) -> bool:
    old, new = before.get("inputs", {}).get(prop), after.get("inputs", {}).get(prop)
    if not _alike(old, new):
        return True
    # Known only after deployment in one of the plans: the same source means the same value.
    return (_has_unknown(old) or _has_unknown(new)) and _sources(before, prop) != _sources(after, prop)


def _config(document: Mapping[str, Any]) -> dict[str, Any]:
    project = str(document.get("project", ""))
    return {key.removeprefix(f"{project}:"): value for key, value in (document.get("config") or {}).items()}


def compare(previous: Mapping[str, Any] | None, current: Mapping[str, Any], *, source: str | None) -> Comparison:
    """What ``current`` (a plan document) replaces or deletes among what ``previous`` has."""
    if previous is None:
        return Comparison(previous=None)
    if (previous.get("project"), previous.get("stack")) != (current.get("project"), current.get("stack")):
        return Comparison(
            previous=source,
            problem=f"it is a plan of {previous.get('project')}/{previous.get('stack')}, not of "
            f"{current.get('project')}/{current.get('stack')}",
        )
    now = {r["urn"]: r for r in current.get("resources", [])}
    changes: list[Change] = []
    for before in previous.get("resources", []):
        stateful = STATEFUL.get(before.get("type", ""))
        if stateful is None:
            continue
        after = now.get(before["urn"])
        if after is None:
            changes.append(Change("DELETED", before["type"], before["name"], ()))
            continue
        changed = tuple(
            (prop, before.get("inputs", {}).get(prop), after.get("inputs", {}).get(prop))
            for prop in stateful.replaced_by
            if _differs(before, after, prop)
        )
        if changed:
            changes.append(Change("REPLACED", before["type"], before["name"], changed))
    old, new = _config(previous), _config(current)
    settings = tuple((k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
    return Comparison(previous=source, changes=tuple(changes), settings=settings if changes else ())


def _short_type(type_: str) -> str:
    package, module, name = type_.split(":")
    return f"{package}:{module.split('/')[0]}:{name}"


def summary_lines(comparison: Comparison, types: Collection[str]) -> list[str]:
    """The lines the plan's summary shows: loud when something that holds data is replaced or deleted.
    ``types``: the resource types the new plan has (for the settings note without a previous plan)."""
    if comparison.changes:
        lines = [
            f"REPLACES:  {len(comparison.changes)} resource(s) holding data would be REPLACED or DELETED "
            f"(compared with {comparison.previous}):"
        ]
        for change in comparison.changes:
            detail = "; ".join(f"{p} {_short(a)} -> {_short(b)}" for p, a, b in change.properties)
            lines.append(f"  {change.kind} {_short_type(change.type)} {change.name}: {change.what}")
            if detail:
                lines.append(f"    because {detail}")
        if comparison.settings:
            lines.append(
                "  settings changed since that plan: "
                + ", ".join(f"{k} {_short(a)} -> {_short(b)}" for k, a, b in comparison.settings)
            )
        return lines
    if comparison.previous is not None and comparison.problem is None:
        return [f"Data:      nothing that holds data is replaced or deleted, compared with {comparison.previous}"]
    why = f" ({comparison.problem})" if comparison.problem else ""
    present = [t for t in STATEFUL if t in types]
    named = [f"{_noun(t)}: {', '.join(STATEFUL[t].settings)}" for t in present if STATEFUL[t].settings]
    return [
        f"Data:      no previous plan to compare with{why}; these settings replace (or delete) what holds data:",
        *[f"             {line}" for line in named],
    ]


def _noun(type_: str) -> str:
    return {
        "aws:rds/instance:Instance": "database",
        "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
        "aws:ecr/repository:Repository": "repositories",
        "aws:kms/key:Key": "KMS keys",
    }.get(type_, _short_type(type_))


def markdown(comparison: Comparison) -> str:
    """A GitHub warning block for the job summary when something that holds data is replaced or deleted."""
    if not comparison.changes:
        return ""
    rows = "\n".join(
        f"> - **{c.kind}** `{_short_type(c.type)}` `{c.name}`: {c.what}"
        + (f" (because {', '.join(p for p, _, _ in c.properties)} changes)" if c.properties else "")
        for c in comparison.changes
    )
    settings = ", ".join(f"`{k}`" for k, _, _ in comparison.settings)
    return (
        f"> [!WARNING]\n> This plan replaces or deletes resources that hold data (compared with "
        f"`{comparison.previous}`):\n{rows}\n" + (f"> Settings changed: {settings}\n" if settings else "") + "\n"
    )
