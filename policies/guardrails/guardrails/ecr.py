"""ECR: every repository is scanned, services run only scanned images, tags are immutable, images expire."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .ecs import containers
from .props import UnknownValueError, as_list, as_mapping, is_set, iter_mappings, json_document
from .rules import Report, StackView, depends_on, resource_policy, stack_policy

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>[:tag][@sha256:digest]
ECR_IMAGE: Final = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# A trusted registry (every repository in it) or repository (exact, or a namespace ending in /*) that
# another stack of the platform owns and scans, e.g. a central registry account.
TRUSTED_REPOSITORY: Final = (
    r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?(/[a-z0-9][a-z0-9._/-]*?(/\*)?)?$"
)
SCANNING_FREQUENCIES: Final = {
    # ENHANCED scanning (Amazon Inspector) supports both; BASIC scanning only scans on push.
    "ENHANCED": ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"),
    "BASIC": ("SCAN_ON_PUSH",),
}


@dataclass(frozen=True)
class RegistryRule:
    scan_type: str
    filters: tuple[str, ...]


def registry_scanning(view: StackView) -> tuple[list[RegistryRule], bool]:
    """The registry-level rules that scan on push (or continuously), and whether ENHANCED scanning is on."""
    rules: list[RegistryRule] = []
    enhanced = False
    for config in view.of_type(t.ECR_REGISTRY_SCANNING):
        with view.reading(config):
            scan_type = str(config.props.get("scanType", "BASIC"))
            enhanced = enhanced or scan_type == "ENHANCED"
            for rule in iter_mappings(config.props.get("rules")):
                if rule.get("scanFrequency") not in SCANNING_FREQUENCIES.get(scan_type, ()):
                    continue
                filters = tuple(
                    str(f.get("filter"))
                    for f in iter_mappings(rule.get("repositoryFilters"))
                    if f.get("filterType", "WILDCARD") == "WILDCARD"
                )
                rules.append(RegistryRule(scan_type, filters))
    return rules, enhanced


def filter_matches(name: str, pattern: str) -> bool:
    """ECR scanning filters: with ``*`` a wildcard for any characters, without one a substring match."""
    if "*" not in pattern:
        return pattern in name
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), name) is not None


def _known_name(repository: PolicyResource) -> str | None:
    try:
        name = repository.props.get("name")
    except UnknownValueError:
        return None
    return name if isinstance(name, str) else None


def scanning_gap(repository: PolicyResource, registry: Sequence[RegistryRule], enhanced: bool) -> str | None:
    """Why ``repository``'s images are not scanned on push, or None when they are."""
    name = _known_name(repository)

    def covered(rule: RegistryRule) -> bool:
        if name is None:
            return "*" in rule.filters  # the name is only known after the update: only `*` surely matches
        return any(filter_matches(name, pattern) for pattern in rule.filters)

    if any(covered(rule) for rule in registry):
        return None
    if enhanced:
        # With ENHANCED scanning on, ECR ignores the repository-level scanOnPush flag.
        return "the registry uses ENHANCED scanning but no scan-on-push/continuous rule filter matches it"
    scanning = as_mapping(repository.props.get("imageScanningConfiguration"))
    if scanning.get("scanOnPush") is True:
        return None
    return "imageScanningConfiguration.scanOnPush is not true and no registry scanning rule covers it"


def _image_scanning(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    registry, enhanced = registry_scanning(view)
    for repository in view.of_type(t.ECR_REPOSITORY):
        with view.reading(repository):
            gap = scanning_gap(repository, registry, enhanced)
            if gap:
                report(f"Repository {repository.name}: {gap}.", repository.urn)


def _images_from_scanned_repositories(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    registry, enhanced = registry_scanning(view)
    repositories = view.of_type(t.ECR_REPOSITORY)
    allowed = [str(p) for p in as_list(config.get("allowedImages"))]
    trusted = [str(p) for p in as_list(config.get("trustedRepositories"))]
    # Task definitions (containerDefinitions: unknown at preview while the image digest is) and Fargate
    # service components (their declared containerSpec names the repository: known at preview).
    for task in view.of_type(*t.CONTAINER_TYPES):
        with view.reading(task):
            for container in containers(task):
                image = str(container.get("image") or container.get("imageRepository") or "")
                problem = _image_problem(image, task, repositories, registry, enhanced, allowed, trusted)
                if problem:
                    report(f"Container '{container.get('name')}' image {image!r}: {problem}.", task.urn)


def _image_problem(
    image: str,
    task: PolicyResource,
    repositories: Sequence[PolicyResource],
    registry: Sequence[RegistryRule],
    enhanced: bool,
    allowed: Sequence[str],
    trusted: Sequence[str],
) -> str | None:
    if any(fnmatch.fnmatchcase(image, pattern) for pattern in allowed):
        return None
    match = ECR_IMAGE.match(image)
    if match is None:
        return "not a private ECR image (nothing scans it); push it to a scanned ECR repository"
    name = match["repository"]
    candidates = [r for r in repositories if _known_name(r) == name]
    if not candidates:
        # An image URI built from the repository's own outputs links them by property dependency.
        linked = {d.urn for d in depends_on(task, "containerDefinitions")}
        candidates = [r for r in repositories if r.urn in linked]
    if not candidates:
        host = image.split("/", 1)[0]
        if any(trusted_covers(entry, host, name) for entry in trusted):
            return None
        return (
            f"repository {name!r} is not managed in this stack, so its scanning cannot be verified (if another "
            "stack owns and scans it, list it or its registry in this policy's trustedRepositories)"
        )
    gaps = [gap for r in candidates if (gap := scanning_gap(r, registry, enhanced))]
    return f"repository {name!r} is not scanned ({gaps[0]})" if len(gaps) == len(candidates) else None


def trusted_covers(entry: str, host: str, repository: str) -> bool:
    """Whether a ``trustedRepositories`` entry covers ``<host>/<repository>``: the registry alone (every
    repository), the exact repository, or a namespace ``<registry>/<prefix>/*``. Malformed entries cover
    nothing (the schema's pattern rejects them when the CLI loads the config)."""
    if re.match(TRUSTED_REPOSITORY, entry) is None:
        return False
    registry, _, path = entry.partition("/")
    if registry != host:
        return False
    if not path:
        return True
    if path.endswith("/*"):
        return repository.startswith(path[:-1])
    return repository == path


def _immutable_tags(args: ResourceValidationArgs, report: Report) -> None:
    mutability = args.props.get("imageTagMutability", "MUTABLE")
    if mutability not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        report(f"imageTagMutability={mutability!r}: a pushed tag can be overwritten, so a deploy is not repeatable.")


def _kms_encryption(args: ResourceValidationArgs, report: Report) -> None:
    configs = list(iter_mappings(args.props.get("encryptionConfigurations")))
    kinds = [c.get("encryptionType", "AES256") for c in configs] or ["AES256"]
    if not all(kind in ("KMS", "KMS_DSSE") for kind in kinds):
        report(f"encryptionType={kinds[0]!r}: use KMS (a key you control and audit in CloudTrail).")


def _lifecycle_policy(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    policies = view.of_type(t.ECR_LIFECYCLE_POLICY)
    for repository in view.of_type(t.ECR_REPOSITORY):
        with view.reading(repository):
            name = _known_name(repository)
            attached = [
                p
                for p in policies
                if repository.urn in {d.urn for d in p.property_dependencies.get("repository", [])}
                or (name is not None and _known_repository(p) == name)
            ]
            if not attached:
                report(f"Repository {repository.name} has no lifecycle policy: images pile up forever.", repository.urn)
                continue
            for policy in attached:
                with view.reading(policy):
                    rules = as_list(as_mapping(_lifecycle_document(policy)).get("rules"))
                    if not rules:
                        report(f"The lifecycle policy of {repository.name} has no rules.", policy.urn)


def _known_repository(policy: PolicyResource) -> str | None:
    try:
        value = policy.props.get("repository")
    except UnknownValueError:
        return None
    return value if isinstance(value, str) else None


def _lifecycle_document(policy: PolicyResource) -> Any:
    if not is_set(policy.props, "policy"):
        return {}
    try:
        return json_document(policy.props["policy"])
    except json.JSONDecodeError:
        return {}


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        stack_policy(
            name="ecr-image-scanning",
            description="Every ECR repository scans images on push, or the registry's scanning rules cover it.",
            check=_image_scanning,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="imageScanningConfiguration={scanOnPush: true}, or a RegistryScanningConfiguration "
            "(ENHANCED) whose SCAN_ON_PUSH/CONTINUOUS_SCAN rule filter matches the repository.",
        ),
        stack_policy(
            name="ecr-images-from-scanned-repositories",
            description="ECS containers run images from ECR repositories in this stack that are scanned.",
            check=_images_from_scanned_repositories,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="Push the image to a scanned ECR repository of this stack and reference it by "
            "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>.",
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedImages": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": [],
                        "description": "Glob patterns of images scanned elsewhere (e.g. a shared registry).",
                    },
                    "trustedRepositories": {
                        "type": "array",
                        "items": {"type": "string", "pattern": TRUSTED_REPOSITORY},
                        "default": [],
                        "description": "ECR registries (<account>.dkr.ecr.<region>.amazonaws.com) or repositories "
                        "(<registry>/<name>, or <registry>/<namespace>/*) that another stack of the platform owns "
                        "and scans (a central registry); their images pass. Default: none.",
                    },
                }
            ),
        ),
        resource_policy(
            name="ecr-immutable-tags",
            description="ECR repositories have immutable image tags.",
            types=[t.ECR_REPOSITORY],
            check=_immutable_tags,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="imageTagMutability='IMMUTABLE' and tag images by content (git SHA or digest).",
        ),
        stack_policy(
            name="ecr-lifecycle-policy",
            description="Every ECR repository has a lifecycle policy with at least one rule.",
            check=_lifecycle_policy,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="Add an aws.ecr.LifecyclePolicy that expires untagged images and keeps the last N tags.",
        ),
        resource_policy(
            name="ecr-kms-encryption",
            description="ECR repositories are encrypted with KMS.",
            types=[t.ECR_REPOSITORY],
            check=_kms_encryption,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="encryptionConfigurations=[{encryptionType: 'KMS', kmsKey: <key ARN>}]",
        ),
    ]
