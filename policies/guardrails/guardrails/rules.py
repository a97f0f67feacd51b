"""Small builders for the pack's policies: type-filtered resource policies and stack policies.

Stack policies receive every resource's final state (at preview: computed properties unknown), plus
its parent, dependencies and *property dependencies*. Relations between resources (which listener
forwards to which target group, which load balancer uses which security group) are read from the
property dependencies first: those are known at preview even when the ARNs and IDs are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import UnknownValueError, as_mapping


class Report(Protocol):
    """pulumi-policy's report_violation: ``urn`` is optional (its ``ReportViolation`` alias says otherwise)."""

    def __call__(self, message: str, urn: str | None = None) -> None: ...


ResourceCheck = Callable[[ResourceValidationArgs, Report], None]


def resource_policy(
    *,
    name: str,
    description: str,
    types: Iterable[str] | Callable[[str], bool],
    check: ResourceCheck,
    enforcement: EnforcementLevel,
    severity: Severity,
    remediation: str,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    """A resource policy that only looks at ``types`` (type tokens, or a predicate on the token)."""
    applies = types if callable(types) else frozenset(types).__contains__

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if applies(args.resource_type):
            check(args, cast(Report, report))

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        severity=severity,
        remediation_steps=remediation,
        config_schema=config_schema,
    )


def short(resource: PolicyResource) -> str:
    """``TaskDefinition(web-task)``: the type's last segment and the resource name."""
    return f"{resource.resource_type.rsplit(':', 1)[-1]}({resource.name})"


class StackView:
    """The resources AnalyzeStack hands over, indexed by URN and type.

    ``reading(resource)`` wraps the checks of one resource: a value that is unknown at preview stops
    only that resource's check and is remembered; ``finish()`` then raises it (naming the resource and
    the property) so pulumi-policy reports it, after the definite violations were already reported.
    """

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)
        self.by_urn: dict[str, PolicyResource] = {r.urn: r for r in self.resources}
        self._unknowns: list[UnknownValueError] = []

    def of_type(self, *types: str | Iterable[str]) -> list[PolicyResource]:
        wanted: set[str] = set()
        for t in types:
            wanted.update([t] if isinstance(t, str) else t)
        return [r for r in self.resources if r.resource_type in wanted]

    @contextmanager
    def reading(self, resource: PolicyResource) -> Iterator[None]:
        try:
            yield
        except UnknownValueError as unknown:
            self._unknowns.append(UnknownValueError(unknown.unknown_type_sentinel, [short(resource), *unknown.props]))

    def finish(self) -> None:
        if not self._unknowns:
            return
        first, *rest = self._unknowns
        if rest:
            others = ", ".join(u.message.split(" value at ", 1)[-1].split(" can't", 1)[0] for u in rest)
            first.message += f" (also unknown: {others})"
        raise first


def depends_on(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    """Resources whose outputs flow into ``prop`` (known at preview, unlike the values themselves)."""
    return list(resource.property_dependencies.get(prop, []))


def referenced(
    resource: PolicyResource, prop: str, candidates: Iterable[PolicyResource], *, keys: Sequence[str] = ("arn", "id")
) -> set[str]:
    """URNs of ``candidates`` that ``resource.props[prop]`` points at.

    A value computed from another resource's output lists that resource in the property
    dependencies, which are known at preview. A literal (an ARN typed in, or imported from another
    stack) has no dependency: it is compared with the candidates' known ARN/ID outputs. Unknown parts
    of the value are skipped, since their dependencies already name their source.
    """
    pool = {c.urn: c for c in candidates}
    found = {d.urn for d in depends_on(resource, prop) if d.urn in pool}
    literals = set(known_strings(resource.props, prop))
    if not literals:
        return found
    for candidate in pool.values():
        for key in keys:
            value = next(iter(known_strings(candidate.props, key)), None)
            if value is not None and value in literals:
                found.add(candidate.urn)
    return found


def known_strings(container: Mapping[str, Any] | Sequence[Any], key: Any) -> Iterator[str]:
    """Every known string inside ``container[key]``, skipping absent and unknown values."""
    try:
        value = container[key]
    except (KeyError, IndexError, UnknownValueError):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in list(value.keys()):
            yield from known_strings(value, inner)
    elif isinstance(value, Sequence):
        for index in range(len(value)):
            yield from known_strings(value, index)


StackCheck = Callable[[StackView, Report, Mapping[str, Any]], None]


def stack_policy(
    *,
    name: str,
    description: str,
    check: StackCheck,
    enforcement: EnforcementLevel,
    severity: Severity,
    remediation: str,
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    """A stack policy over a ``StackView``; unknown values are reported after the definite violations."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        view = StackView(args.resources)
        check(view, cast(Report, report), as_mapping(args.get_config()))
        view.finish()

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        severity=severity,
        remediation_steps=remediation,
        config_schema=config_schema,
    )
