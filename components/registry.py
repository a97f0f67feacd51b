"""ECR: the app's repositories, their lifecycle and access, and the registry-wide settings.

Two kinds of ECR settings live here, and they have different owners:

* **Per repository** (always created by the stack that owns the repository): tag immutability, KMS
  encryption, scan on push, the lifecycle policy and the repository policy.
* **Per registry** (one per account *and* region, shared by every stack that deploys there): the
  registry scanning configuration and the replication configuration. ECR stores exactly one of
  each; ``PutRegistryScanningConfiguration`` and ``PutReplicationConfiguration`` replace whatever
  is there. Two stacks that both manage them would silently overwrite each other on every
  ``pulumi up`` (dev turning prod's ENHANCED scanning back to BASIC, for instance), and destroying
  either would reset them for both. So exactly one stack per account and region *owns* them
  (``RegistryArgs.registry_settings``), and this is enforced twice:

  - in one program: a second owner component for the same account and region raises before
    anything is registered;
  - across stacks: the owner also creates an SSM parameter with a fixed name
    (``/platform/ecr/registry-settings-owner``), and the registry settings depend on it. SSM
    refuses to create a parameter that exists, so a second stack claiming ownership fails at that
    lock, before touching the shared settings, and the error names the parameter to look at.

  The owner's scanning filters cover the whole project namespace (``<project>/*``), so the
  repositories of the stacks that do not own the settings are scanned too. The registry settings
  are kept in the account when their owner stops owning them or is destroyed
  (``retain_on_delete``): a stack going away must not switch scanning off for everyone else.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws

from components.arns import KMS_KEY_ARN
from components.aws_context import AwsContext
from components.errors import InputError, in_range, require

# --------------------------------------------------------------------------------------------------
# Validation helpers (shared with stack/settings.py, which re-raises them naming the config key)
# --------------------------------------------------------------------------------------------------


# Patterns from the ECR API model (botocore ``ecr`` service-2.json), so bad values fail here, at
# preview, instead of half-way through an update.
_REPOSITORY_NAME: Final = re.compile(
    r"^(?=.{2,256}$)[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$"
)
_SCAN_FILTER: Final = re.compile(r"^(?=.{1,255}$)[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$")
_REPLICATION_FILTER: Final = re.compile(
    r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$"
)
_REGION: Final = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ACCOUNT: Final = re.compile(r"^\d{12}$")
# A Docker tag: the grammar ``docker push`` accepts (ECR allows up to 300 characters, Docker 128).
_TAG: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_TAG_PREFIX: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_TAG_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.*-]{1,128}$")
_MAX_PATTERN_WILDCARDS: Final = 4  # ECR lifecycle policies: at most four '*' per tagPatternList string
_LIFECYCLE_TEXT_LENGTH: Final = (100, 30720)  # LifecyclePolicyText, ECR API model
_MAX_SCAN_FILTERS: Final = 100  # ScanningRepositoryFilterList
_MAX_REPLICATION_FILTERS: Final = 100  # RepositoryFilterList
_MAX_REPLICATION_DESTINATIONS: Final = 25  # service quota: unique destinations across all rules

# Actions another account needs to pull (ecr:GetAuthorizationToken is not resource-scoped: the
# puller grants it in its own identity policy).
PULL_ACTIONS: Final = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")

ScanMode = Literal["basic-on-push", "enhanced-on-push", "enhanced-continuous"]
SCAN_MODES: Final[dict[str, tuple[str, str]]] = {
    # mode -> (scanType, scanFrequency). MANUAL is deliberately not offered.
    "basic-on-push": ("BASIC", "SCAN_ON_PUSH"),
    "enhanced-on-push": ("ENHANCED", "SCAN_ON_PUSH"),
    "enhanced-continuous": ("ENHANCED", "CONTINUOUS_SCAN"),
}
KMS_MODES: Final = ("aws-managed", "customer-managed")
"""``ecrKmsKey`` values besides a key ARN: the ``aws/ecr`` key, or a key this component creates."""

OWNER_LOCK_PARAMETER: Final = "/platform/ecr/registry-settings-owner"

AUTO_TAG_PREFIX: Final = "build-"
"""Tags ``build-<digest>`` are the image component's content-addressed, immutable build tags."""


def check_repository_name(name: str, setting: str = "repository") -> str:
    if not _REPOSITORY_NAME.match(name):
        raise InputError(setting, name, "lowercase letters, digits, '.', '_', '-' and '/' separated parts, 2-256 chars")
    return name


def check_scan_filter(value: str, setting: str = "scan_filters") -> str:
    if not _SCAN_FILTER.match(value):
        raise InputError(
            setting, value, "a repository name filter of lowercase letters, digits, . _ - / and * wildcards"
        )
    return value


def check_replication_filter(value: str, setting: str = "replication_filters") -> str:
    if not _REPLICATION_FILTER.match(value):
        raise InputError(setting, value, "a repository name prefix (lowercase letters, digits, . _ - /), 2-256 chars")
    return value


def check_tag(value: str, setting: str = "tag") -> str:
    if not _TAG.match(value):
        raise InputError(setting, value, "a Docker tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
    return value


def check_kms_key(value: str, setting: str = "kms_key") -> str:
    if value not in KMS_MODES and not KMS_KEY_ARN.match(value):
        raise InputError(
            setting, value, "aws-managed, customer-managed, or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
        )
    return value


def pull_principal_arn(value: str, *, partition: str = "aws", setting: str = "pull_principals") -> str:
    """A 12-digit account ID becomes the account's root principal; IAM role/user ARNs pass through."""
    if _ACCOUNT.match(value):
        return f"arn:{partition}:iam::{value}:root"
    if re.match(r"^arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)$", value):
        return value
    raise InputError(
        setting, value, "a 12-digit account ID or an IAM role/user ARN (never '*': pulls are granted by name)"
    )


def scan_filter_matches(pattern: str, repository: str) -> bool:
    """ECR's filter semantics: without '*' a filter matches names that *contain* it; with '*' the
    whole name must match, each '*' standing for zero or more characters."""
    if "*" not in pattern:
        return pattern in repository
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, repository) is not None


# --------------------------------------------------------------------------------------------------
# Lifecycle rules
# --------------------------------------------------------------------------------------------------
TagStatus = Literal["tagged", "untagged", "any"]
CountType = Literal["sinceImagePushed", "imageCountMoreThan"]


@dataclass(frozen=True, kw_only=True)
class LifecycleRule:
    """One ECR lifecycle rule (action ``expire``), validated against what ECR accepts.

    Prefer the constructors below (``expire_untagged``, ``keep_last_tagged``, ``keep_last``); this
    class is the general form they share. Selection semantics worth knowing: several entries in
    ``tag_prefixes``/``tag_patterns`` select images carrying *all* of them (AND), and an image
    selected by a rule is never expired by a rule with a higher priority number.
    """

    priority: int
    """``rulePriority``: unique, evaluated lowest first; a ``tag_status="any"`` rule must be highest."""
    description: str
    tag_status: TagStatus
    count_type: CountType
    """``sinceImagePushed`` (``count`` is days) or ``imageCountMoreThan`` (``count`` images kept)."""
    count: int
    """``countNumber``: a positive whole number."""
    tag_prefixes: tuple[str, ...] = ()
    """``tagPrefixList`` (tagged rules only; exclusive with ``tag_patterns``)."""
    tag_patterns: tuple[str, ...] = ()
    """``tagPatternList`` with up to four ``*`` each (tagged rules only)."""

    @property
    def label(self) -> str:
        return f"lifecycle rule {self.priority} ({self.description or self.tag_status})"

    def _error(self, field_name: str, value: object, allowed: str) -> InputError:
        return InputError(f"{self.label}: {field_name}", value, allowed)

    def __post_init__(self) -> None:
        if isinstance(self.priority, bool) or not isinstance(self.priority, int) or self.priority < 1:
            raise self._error("rulePriority", self.priority, "a whole number >= 1")
        if self.tag_status not in ("tagged", "untagged", "any"):
            raise self._error("selection.tagStatus", self.tag_status, "one of tagged, untagged, any")
        if self.count_type not in ("sinceImagePushed", "imageCountMoreThan"):
            raise self._error("selection.countType", self.count_type, "one of sinceImagePushed, imageCountMoreThan")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise self._error("selection.countNumber", self.count, "a whole number >= 1 (0 is rejected)")
        if self.tag_status == "tagged":
            if bool(self.tag_prefixes) == bool(self.tag_patterns):
                raise self._error(
                    "selection.tagPrefixList/tagPatternList",
                    {"tagPrefixList": list(self.tag_prefixes), "tagPatternList": list(self.tag_patterns)},
                    "exactly one of them, non-empty, when tagStatus is 'tagged'",
                )
        elif self.tag_prefixes or self.tag_patterns:
            raise self._error(
                "selection.tagPrefixList/tagPatternList",
                list(self.tag_prefixes or self.tag_patterns),
                f"omitted when tagStatus is '{self.tag_status}' (only tagged rules select by tag)",
            )
        for prefix in self.tag_prefixes:
            if not _TAG_PREFIX.match(prefix):
                raise self._error("selection.tagPrefixList", prefix, "tag characters A-Z a-z 0-9 _ . -")
        for pattern in self.tag_patterns:
            if not _TAG_PATTERN.match(pattern):
                raise self._error("selection.tagPatternList", pattern, "tag characters and '*' wildcards")
            if pattern.count("*") > _MAX_PATTERN_WILDCARDS:
                raise self._error(
                    "selection.tagPatternList", pattern, f"at most {_MAX_PATTERN_WILDCARDS} '*' per pattern"
                )

    def to_ecr(self) -> dict[str, Any]:
        """The rule as ECR's lifecycle policy JSON has it."""
        selection: dict[str, Any] = {"tagStatus": self.tag_status}
        if self.tag_prefixes:
            selection["tagPrefixList"] = list(self.tag_prefixes)
        if self.tag_patterns:
            selection["tagPatternList"] = list(self.tag_patterns)
        selection["countType"] = self.count_type
        if self.count_type == "sinceImagePushed":
            selection["countUnit"] = "days"
        selection["countNumber"] = self.count
        rule: dict[str, Any] = {"rulePriority": self.priority}
        if self.description:
            rule["description"] = self.description
        rule["selection"] = selection
        rule["action"] = {"type": "expire"}
        return rule


def expire_untagged(days: int, *, priority: int) -> LifecycleRule:
    """Expire untagged images (superseded manifests, failed pushes) ``days`` after their push."""
    return LifecycleRule(
        priority=priority,
        description=f"Expire untagged images after {days} days",
        tag_status="untagged",
        count_type="sinceImagePushed",
        count=days,
    )


def keep_last_tagged(count: int, prefix: str, *, priority: int) -> LifecycleRule:
    """Keep the newest ``count`` images whose tag starts with ``prefix``; expire older ones."""
    return LifecycleRule(
        priority=priority,
        description=f"Keep the last {count} images tagged {prefix}*",
        tag_status="tagged",
        tag_prefixes=(prefix,),
        count_type="imageCountMoreThan",
        count=count,
    )


def keep_last(count: int, *, priority: int) -> LifecycleRule:
    """Keep the newest ``count`` images not selected by an earlier rule; must be the last rule."""
    return LifecycleRule(
        priority=priority,
        description=f"Keep the last {count} other images",
        tag_status="any",
        count_type="imageCountMoreThan",
        count=count,
    )


def default_lifecycle_rules(
    *,
    untagged_days: int,
    release_prefixes: Sequence[str],
    keep_release: int,
    keep_any: int,
) -> tuple[LifecycleRule, ...]:
    """Expire untagged images, keep the last N release images *per prefix*, keep the last N others.

    One rule per release prefix, because prefixes in one rule are ANDed (``["v", "release-"]`` would
    select only images tagged with both). Release images are selected before the catch-all rule, so
    it can never expire them.
    """
    rules = [expire_untagged(untagged_days, priority=1)]
    for i, prefix in enumerate(release_prefixes):
        rules.append(keep_last_tagged(keep_release, prefix, priority=2 + i))
    rules.append(keep_last(keep_any, priority=2 + len(release_prefixes)))
    return tuple(rules)


# Ceilings that catch a typo (an extra zero) rather than AWS limits: ten years of untagged images,
# and more images than a repository of this platform should ever keep.
MAX_UNTAGGED_DAYS: Final = 3650
MAX_KEPT_IMAGES: Final = 10_000


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """The platform's lifecycle policy in four numbers (see ``default_lifecycle_rules``)."""

    untagged_days: int
    """Days after push when untagged images expire."""
    release_prefixes: Sequence[str]
    """Tag prefixes of release images (each kept separately)."""
    keep_release: int
    """Release images kept per prefix."""
    keep_any: int
    """Other images kept (build-* tags, the build cache)."""

    def __post_init__(self) -> None:
        in_range("untagged_days", self.untagged_days, 1, MAX_UNTAGGED_DAYS, "days")
        prefixes = list(self.release_prefixes)
        bad = [p for p in prefixes if not _TAG_PREFIX.match(p)]
        require(
            not bad,
            "release_prefixes",
            prefixes,
            f"every item a tag prefix (letters, digits, _ . -) (bad: {', '.join(bad)})",
        )
        require(len(set(prefixes)) == len(prefixes), "release_prefixes", prefixes, "distinct prefixes")
        in_range("keep_release", self.keep_release, 1, MAX_KEPT_IMAGES, "images")
        in_range("keep_any", self.keep_any, 1, MAX_KEPT_IMAGES, "images")
        lifecycle_policy_document(self.rules)  # the whole policy as ECR validates it

    @property
    def rules(self) -> tuple[LifecycleRule, ...]:
        return default_lifecycle_rules(
            untagged_days=self.untagged_days,
            release_prefixes=self.release_prefixes,
            keep_release=self.keep_release,
            keep_any=self.keep_any,
        )


def lifecycle_policy_document(rules: Sequence[LifecycleRule]) -> str:
    """Validate the rule set as ECR does and render the policy JSON (rules ordered by priority)."""
    if not rules:
        raise InputError("lifecycle_rules", [], "at least one rule")
    priorities = [r.priority for r in rules]
    duplicates = sorted({p for p in priorities if priorities.count(p) > 1})
    if duplicates:
        raise InputError("lifecycle_rules: rulePriority", duplicates, "unique priorities across rules")
    catch_all = [r for r in rules if r.tag_status == "any"]
    if len(catch_all) > 1:
        raise InputError("lifecycle_rules: tagStatus 'any'", [r.priority for r in catch_all], "at most one rule")
    if catch_all and catch_all[0].priority != max(priorities):
        raise InputError(
            f"{catch_all[0].label}: rulePriority",
            catch_all[0].priority,
            f"the highest priority number of all rules (above {max(priorities)}): 'any' is evaluated last",
        )
    ordered = sorted(rules, key=lambda r: r.priority)
    text = json.dumps({"rules": [r.to_ecr() for r in ordered]}, separators=(",", ":"))
    low, high = _LIFECYCLE_TEXT_LENGTH
    if not low <= len(text) <= high:
        raise InputError("lifecycle policy text length", len(text), f"{low} to {high} characters")
    return text


# --------------------------------------------------------------------------------------------------
# Registry-wide settings
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ReplicationDestination:
    """Where images are copied: another region of this account, or a region of another account."""

    region: str
    account_id: str | None = None
    """None: this account. Another account must allow it first (see docs/registry.md)."""

    def __post_init__(self) -> None:
        if not _REGION.match(self.region):
            raise InputError("replication destination region", self.region, "an AWS region such as eu-central-1")
        if self.account_id is not None and not _ACCOUNT.match(self.account_id):
            raise InputError("replication destination account", self.account_id, "a 12-digit account ID")

    @classmethod
    def parse(cls, value: str, setting: str = "replication_destinations") -> ReplicationDestination:
        """``"eu-central-1"`` (this account) or ``"eu-central-1:210987654321"`` (region:account, as in ARNs)."""
        region, _, account = value.partition(":")
        try:
            return cls(region=region, account_id=account or None)
        except InputError as error:
            raise InputError(
                setting, value, f"<region> or <region>:<12-digit account> ({error.setting}: {error.allowed})"
            ) from None


@dataclass(frozen=True, kw_only=True)
class RegistryWideSettings:
    """The one-per-registry settings this stack owns (see the module docstring)."""

    scanning: ScanMode
    """``basic-on-push`` (free), ``enhanced-on-push`` or ``enhanced-continuous`` (Amazon Inspector, billed)."""
    scan_filters: Sequence[str]
    """WILDCARD repository filters the scanning rule applies to; must cover this stack's repositories."""
    replication_destinations: Sequence[ReplicationDestination] = ()
    replication_filters: Sequence[str] = ()
    """PREFIX_MATCH repository name prefixes replicated; required when there are destinations."""

    def __post_init__(self) -> None:
        if self.scanning not in SCAN_MODES:
            raise InputError("scanning", self.scanning, "one of " + ", ".join(SCAN_MODES))
        if not self.scan_filters or len(self.scan_filters) > _MAX_SCAN_FILTERS:
            raise InputError("scan_filters", list(self.scan_filters), f"1 to {_MAX_SCAN_FILTERS} filters")
        for f in self.scan_filters:
            check_scan_filter(f)
        if len(self.replication_destinations) > _MAX_REPLICATION_DESTINATIONS:
            raise InputError(
                "replication_destinations",
                len(self.replication_destinations),
                f"at most {_MAX_REPLICATION_DESTINATIONS} destinations",
            )
        if len(set(self.replication_destinations)) != len(self.replication_destinations):
            raise InputError("replication_destinations", self.replication_destinations, "no duplicates")
        if self.replication_destinations and not self.replication_filters:
            raise InputError(
                "replication_filters", [], "at least one repository prefix when replicating (never all repos)"
            )
        if len(self.replication_filters) > _MAX_REPLICATION_FILTERS:
            raise InputError(
                "replication_filters", len(self.replication_filters), f"at most {_MAX_REPLICATION_FILTERS}"
            )
        for f in self.replication_filters:
            check_replication_filter(f)

    @property
    def scan_type(self) -> str:
        return SCAN_MODES[self.scanning][0]

    @property
    def scan_frequency(self) -> str:
        return SCAN_MODES[self.scanning][1]


# --------------------------------------------------------------------------------------------------
# Component
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    """Settings for the app's ECR repositories (and, for the owning stack, the registry settings)."""

    context: AwsContext
    """Account, region and partition (plain values): repository ARNs and policies are known at preview."""
    namespace: str
    """First part of every repository name, shared by all stacks of the project (e.g. the project)."""
    stack: str
    """Second part: repositories are ``<namespace>/<stack>/<repository>``."""
    repositories: Sequence[str]
    """Short names of the repositories to create."""
    lifecycle_rules: Sequence[LifecycleRule]
    """The lifecycle policy of every repository (e.g. ``RetentionPolicy(...).rules``)."""
    kms_key: str
    """``aws-managed`` (the ``aws/ecr`` key), ``customer-managed`` (a rotated key created here), or an ARN."""
    pull_principals: Sequence[str]
    """Accounts (12 digits) or IAM role/user ARNs allowed to pull, e.g. another environment's account."""
    build_cache_tag: str | None
    """The one tag exempt from immutability (IMMUTABLE_WITH_EXCLUSION), moved by every build to serve
    as registry build cache. None keeps the repositories strictly IMMUTABLE."""
    force_delete: bool
    """Allow deleting repositories that still hold images (dev teardown); off where data matters."""
    registry_settings: RegistryWideSettings | None
    """Set in exactly one stack per account and region: it owns scanning and replication."""
    replica_settings: bool = False
    """Owner only: give the repositories replication creates in this account's other regions the
    source's settings (a creation template, registry scanning and, for customer-managed encryption,
    a key per region); off, ECR creates them with its defaults."""
    replica_kms_key_arns: Mapping[str, str] = field(default_factory=dict)
    """With ``kms_key`` a key ARN: the key (``key/<id>`` ARN) per same-account replication region that
    encrypts the repositories replication creates there (a KMS key serves one region)."""

    def __post_init__(self) -> None:
        if not self.repositories:
            raise InputError("repositories", [], "at least one repository")
        if len(set(self.repositories)) != len(self.repositories):
            raise InputError("repositories", list(self.repositories), "unique names")
        for name in self.repository_names.values():
            check_repository_name(name, "repository name")
        lifecycle_policy_document(self.lifecycle_rules)
        check_kms_key(self.kms_key)
        own_root = f"arn:{self.context.partition}:iam::{self.context.account_id}:root"
        for principal in self.pull_principals:
            if pull_principal_arn(principal, partition=self.context.partition) == own_root:
                raise InputError("pull_principals", principal, "other accounts only (this account pulls through IAM)")
        if self.build_cache_tag is not None:
            check_tag(self.build_cache_tag, "build_cache_tag")
            # The one mutable tag must not be one the lifecycle policy keeps as a release, nor one
            # of the content-addressed build tags: moving it would rewrite an image people rely on.
            reserved = [AUTO_TAG_PREFIX, *(p for r in self.lifecycle_rules for p in r.tag_prefixes)]
            require(
                not any(self.build_cache_tag.startswith(p) for p in reserved),
                "build_cache_tag",
                self.build_cache_tag,
                f"a tag outside {AUTO_TAG_PREFIX}* and the release prefixes ({', '.join(reserved[1:]) or 'none'})",
            )
        settings = self.registry_settings
        if settings is not None:
            for name in self.repository_names.values():
                if not any(scan_filter_matches(f, name) for f in settings.scan_filters):
                    raise InputError(
                        "scan_filters",
                        list(settings.scan_filters),
                        f"filters that cover {name} (a repository of this stack)",
                    )
            here = (self.context.region, self.context.account_id)
            for dest in settings.replication_destinations:
                if (dest.region, dest.account_id or self.context.account_id) == here:
                    raise InputError(
                        "replication_destinations", dest, "a region or account other than the source registry"
                    )
        check_replica_encryption(self)

    @property
    def repository_names(self) -> dict[str, str]:
        return {short: f"{self.namespace}/{self.stack}/{short}" for short in self.repositories}


# One owner of the registry-wide settings per account+region *per program run*. Keyed by the
# run's resource monitor so that many runs in one process (tests) do not see each other.
_claimed: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()


def _claim_registry_settings(context: AwsContext, component: str) -> None:
    monitor = pulumi.runtime.settings.get_monitor()
    if monitor is None:
        return
    claimed = _claimed.setdefault(monitor, set())
    key = (context.account_id, context.region)
    if key in claimed:
        raise InputError(
            f"{component}: registry_settings",
            f"account {context.account_id}, region {context.region}",
            "one owner per account and region; this program already created the registry settings",
        )
    claimed.add(key)


class Registry(pulumi.ComponentResource):
    """ECR repositories with immutable tags, KMS encryption, scan on push, lifecycle and pull policy.

    When ``registry_settings`` is given, this stack owns the account+region's registry scanning and
    replication configuration (see the module docstring for why there must be exactly one owner).
    """

    repository_names: dict[str, str]
    """Full repository names by short name (plain: filters and ARNs are known at preview)."""
    repository_arns: dict[str, str]
    """Repository ARNs by short name (plain)."""
    repository_urls: dict[str, pulumi.Output[str]]
    """``<account>.dkr.ecr.<region>.amazonaws.com/<name>`` by short name."""
    repository_url: pulumi.Output[str]
    """URL of the first repository (the app's)."""
    registry_id: str
    """The registry (account) ID."""
    tag_mutability: str
    """IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION when a build cache tag is exempted."""
    build_cache_tag: str | None
    """The tag builds move to publish registry cache, if any (the only mutable tag)."""
    lifecycle_policy: str
    """The lifecycle policy JSON applied to every repository."""
    kms_key_arn: pulumi.Output[str] | None
    """The customer-managed key encrypting the repositories (None with the AWS-managed key)."""
    owns_registry_settings: bool
    """Whether this stack manages the registry scanning and replication configuration."""
    scan_type: str | None
    """BASIC or ENHANCED when owned here; None when another stack owns it."""
    scan_frequency: str | None
    """SCAN_ON_PUSH or CONTINUOUS_SCAN when owned here."""
    replica_template_regions: list[str]
    """Same-account replication regions given a repository creation template (and registry scanning)."""

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.registry_settings is not None:
            _claim_registry_settings(args.context, name)  # before anything is registered
        super().__init__("platform:registry:Registry", name, None, opts)
        self._name = name
        self._args = args
        ctx = args.context

        self.repository_names = args.repository_names
        self.repository_arns = {
            short: ctx.arn("ecr", f"repository/{full}") for short, full in self.repository_names.items()
        }
        self.registry_id = ctx.account_id
        self.build_cache_tag = args.build_cache_tag
        self.tag_mutability = "IMMUTABLE" if args.build_cache_tag is None else "IMMUTABLE_WITH_EXCLUSION"
        self.lifecycle_policy = lifecycle_policy_document(args.lifecycle_rules)
        self.owns_registry_settings = args.registry_settings is not None
        self.scan_type = args.registry_settings.scan_type if args.registry_settings else None
        self.scan_frequency = args.registry_settings.scan_frequency if args.registry_settings else None
        self.replica_template_regions = replica_regions(args)

        encryption = self._encryption()
        self.repository_urls = {
            short: self._create_repository(short, full, encryption) for short, full in self.repository_names.items()
        }
        self.repository_url = next(iter(self.repository_urls.values()))

        if args.registry_settings is not None:
            self._create_registry_settings(args.registry_settings)

        self.register_outputs(
            {
                "repositoryUrls": self.repository_urls,
                "repositoryArns": self.repository_arns,
                "tagMutability": self.tag_mutability,
                "scanType": self.scan_type,
                "kmsKeyArn": self.kms_key_arn,
            }
        )

    # -- encryption ---------------------------------------------------------------------------------
    def _encryption(self) -> aws.ecr.RepositoryEncryptionConfigurationArgs:
        """The repositories' encryption configuration (changing it later replaces the repositories)."""
        name, args, ctx = self._name, self._args, self._args.context
        self.kms_key_arn = None
        if args.kms_key == "aws-managed":
            return aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")  # the aws/ecr key
        if args.kms_key != "customer-managed":
            self.kms_key_arn = pulumi.Output.from_input(args.kms_key)
            return aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key)
        # The default key policy (the account administers the key, IAM policies grant use). ECR
        # uses the key through a grant it creates with the deployer's permissions at repository
        # creation, so no service principal is needed here.
        key = aws.kms.Key(
            f"{name}-key",
            description=f"ECR repositories {args.namespace}/{args.stack}/*",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(_account_key_policy(ctx)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{args.namespace}-{args.stack}-ecr",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.kms_key_arn = key.arn
        return aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)

    # -- repositories -------------------------------------------------------------------------------
    def _create_repository(
        self, short: str, full: str, encryption: aws.ecr.RepositoryEncryptionConfigurationArgs
    ) -> pulumi.Output[str]:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        exclusions = (
            [
                aws.ecr.RepositoryImageTagMutabilityExclusionFilterArgs(
                    filter=args.build_cache_tag, filter_type="WILDCARD"
                )
            ]
            if args.build_cache_tag
            else None
        )
        repo = aws.ecr.Repository(
            f"{name}-{short}",
            name=full,
            image_tag_mutability=self.tag_mutability,
            image_tag_mutability_exclusion_filters=exclusions,
            # Honoured with BASIC registry scanning; ENHANCED scanning follows the registry rules.
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[encryption],
            force_delete=args.force_delete,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-{short}-lifecycle", repository=repo.name, policy=self.lifecycle_policy, opts=child
        )
        policy = _pull_policy(args)
        if policy is not None:
            aws.ecr.RepositoryPolicy(
                f"{name}-{short}-policy", repository=repo.name, policy=json.dumps(policy), opts=child
            )
        return repo.repository_url

    # -- registry-wide settings (owner only) --------------------------------------------------------
    def _create_registry_settings(self, settings: RegistryWideSettings) -> None:
        name, args = self._name, self._args
        lock = aws.ssm.Parameter(
            f"{name}-settings-lock",
            name=OWNER_LOCK_PARAMETER,
            type="String",
            insecure_value=f"{pulumi.get_project()}/{pulumi.get_stack()}",  # not a secret: shown in diffs
            description=(
                "Owner of this account+region's ECR registry scanning and replication configuration. "
                "Only this stack manages them; creating this parameter fails for a second owner."
            ),
            overwrite=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        shared = pulumi.ResourceOptions(parent=self, depends_on=[lock], retain_on_delete=True)
        aws.ecr.RegistryScanningConfiguration(
            f"{name}-scanning",
            scan_type=settings.scan_type,
            rules=[
                {
                    "scan_frequency": settings.scan_frequency,
                    "repository_filters": [{"filter": f, "filter_type": "WILDCARD"} for f in settings.scan_filters],
                }
            ],
            opts=shared,
        )
        if settings.replication_destinations:
            aws.ecr.ReplicationConfiguration(
                f"{name}-replication",
                replication_configuration={
                    "rules": [
                        {
                            "destinations": [
                                {"region": d.region, "registry_id": d.account_id or args.context.account_id}
                                for d in settings.replication_destinations
                            ],
                            "repository_filters": [
                                {"filter": f, "filter_type": "PREFIX_MATCH"} for f in settings.replication_filters
                            ],
                        }
                    ]
                },
                opts=shared,
            )
            if args.replica_settings:
                self._create_replica_templates(settings)

    # -- replicated repositories (owner only) -------------------------------------------------------
    def _create_replica_templates(self, settings: RegistryWideSettings) -> None:
        """Repository creation templates, scanning and keys in each same-account replication region.

        Replication creates the destination repositories itself, with ECR's defaults (mutable tags,
        AES256, no lifecycle, no policy) unless that registry has a creation template for
        REPLICATION whose prefix matches. A template lives in the registry where repositories are
        created (the API has no region of its own), so one is written per destination region, with
        the source's tag mutability, lifecycle, pull policy and encryption. A template cannot set
        scanning: the destination registry's scanning configuration decides it, so the same rules are
        written there too, behind the same SSM owner lock as here (a second owner of that registry
        fails at the lock instead of overwriting it). A KMS key serves one region: customer-managed
        encryption gets a key per destination (or ``replica_kms_key_arns``), and a template with a
        customer-managed key needs a role ECR assumes to use it (the ECR user guide's custom role for
        repository creation templates). Cross-account destinations are not written from here: their
        account creates its own template.
        """
        name, args, ctx = self._name, self._args, self._args.context
        regions = replica_regions(args)
        keys: dict[str, pulumi.Input[str]] = {}
        locks: dict[str, aws.ssm.Parameter] = {}
        for region in regions:
            lock = locks[region] = aws.ssm.Parameter(
                f"{name}-settings-lock-{region}",
                region=region,
                name=OWNER_LOCK_PARAMETER,
                type="String",
                insecure_value=f"{pulumi.get_project()}/{pulumi.get_stack()} (replication from {ctx.region})",
                description=(
                    f"Owner of this account+region's ECR registry scanning configuration and creation "
                    f"templates (written by the stack replicating into it from {ctx.region})."
                ),
                overwrite=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            shared = pulumi.ResourceOptions(parent=self, depends_on=[lock], retain_on_delete=True)
            aws.ecr.RegistryScanningConfiguration(
                f"{name}-scanning-{region}",
                region=region,
                scan_type=settings.scan_type,
                rules=[
                    {
                        "scan_frequency": settings.scan_frequency,
                        "repository_filters": [{"filter": f, "filter_type": "WILDCARD"} for f in settings.scan_filters],
                    }
                ],
                opts=shared,
            )
            if args.kms_key == "customer-managed":
                key = aws.kms.Key(
                    f"{name}-key-{region}",
                    region=region,
                    description=f"ECR repositories {args.namespace}/* replicated from {ctx.region}",
                    enable_key_rotation=True,
                    deletion_window_in_days=30,
                    policy=json.dumps(_account_key_policy(ctx)),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                aws.kms.Alias(
                    f"{name}-key-alias-{region}",
                    region=region,
                    name=replica_key_alias(args),
                    target_key_id=key.key_id,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                keys[region] = key.arn
            elif args.kms_key != "aws-managed":
                keys[region] = args.replica_kms_key_arns[region]

        role_arn: str | None = None
        if keys:
            role_name = replica_template_role_name(args)
            role = aws.iam.Role(
                f"{name}-template-role",
                name=role_name,
                description="ECR assumes this to create replicated repositories encrypted with their region's key",
                assume_role_policy=json.dumps(template_trust_policy(ctx)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            created = args.kms_key == "customer-managed"
            policy = template_role_policy(
                ctx,
                args.namespace,
                regions,
                [] if created else [args.replica_kms_key_arns[r] for r in regions],
                key_alias=replica_key_alias(args) if created else None,
            )
            aws.iam.RolePolicy(
                f"{name}-template-role-policy",
                role=role.id,
                policy=json.dumps(policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
            role_arn = ctx.arn("iam", f"role/{role_name}", regional=False)

        repository_policy = _pull_policy(args)
        for region in regions:
            key_arn = keys.get(region)
            aws.ecr.RepositoryCreationTemplate(
                f"{name}-replica-template-{region}",
                region=region,
                prefix=args.namespace,
                applied_fors=["REPLICATION"],
                description=f"Repositories replicated from {ctx.region}: the source's settings",
                image_tag_mutability=self.tag_mutability,
                image_tag_mutability_exclusion_filters=(
                    [
                        aws.ecr.RepositoryCreationTemplateImageTagMutabilityExclusionFilterArgs(
                            filter=args.build_cache_tag, filter_type="WILDCARD"
                        )
                    ]
                    if args.build_cache_tag
                    else None
                ),
                lifecycle_policy=self.lifecycle_policy,
                repository_policy=json.dumps(repository_policy) if repository_policy else None,
                encryption_configurations=[
                    aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=key_arn
                    )
                ],
                custom_role_arn=role_arn if key_arn is not None else None,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[locks[region]], retain_on_delete=True),
            )


def replica_regions(args: RegistryArgs) -> list[str]:
    """Same-account replication regions (plain), in configuration order: where this stack writes templates."""
    settings = args.registry_settings
    if settings is None or not args.replica_settings:
        return []
    return [d.region for d in settings.replication_destinations if d.account_id in (None, args.context.account_id)]


def parse_replica_key(value: str, setting: str = "replica_kms_key_arns") -> tuple[str, str]:
    """``"<region>=<key ARN>"``, the form a stack setting writes one ``replica_kms_key_arns`` entry in;
    the ARN itself is checked by ``RegistryArgs`` (a key in that region)."""
    region, sep, arn = value.partition("=")
    if not sep or not _REGION.match(region) or not arn:
        raise InputError(setting, value, "'<region>=<KMS key ARN>', e.g. 'eu-central-1=arn:aws:kms:eu-central-1:...'")
    return region, arn


def replica_key_alias(args: RegistryArgs) -> str:
    """The alias of the replica key this component creates in each region (the same name in each)."""
    return f"alias/{args.namespace}-{args.stack}-ecr-replica"


def replica_template_role_name(args: RegistryArgs) -> str:
    return f"{args.namespace}-{args.stack}-ecr-replica-template"


def check_replica_encryption(args: RegistryArgs) -> None:
    """With a given key ARN, each same-account replication region needs its own key (in that region)."""
    regions = replica_regions(args)
    if regions and args.kms_key != "aws-managed":
        role = replica_template_role_name(args)
        require(len(role) <= 64, "namespace/stack", role, "names short enough for the template role (64 characters)")
    for region, arn in args.replica_kms_key_arns.items():
        require(
            region in regions,
            f"replica_kms_key_arns[{region}]",
            arn,
            f"a key for a same-account replication region ({', '.join(regions) or 'none configured'})",
        )
        require(
            bool(re.match(rf"^arn:aws[a-z-]*:kms:{re.escape(region)}:\d{{12}}:key/[a-z0-9-]+$", arn)),
            f"replica_kms_key_arns[{region}]",
            arn,
            f"a KMS key ARN in {region} (arn:aws:kms:{region}:<account>:key/<id>; templates take no aliases)",
        )
    if args.kms_key in KMS_MODES:
        require(
            not args.replica_kms_key_arns,
            "replica_kms_key_arns",
            dict(args.replica_kms_key_arns),
            f"empty with kms_key={args.kms_key} (the component picks the replica keys)",
        )
        return
    missing = [r for r in regions if r not in args.replica_kms_key_arns]
    if missing:
        raise InputError(
            "replica_kms_key_arns",
            dict(args.replica_kms_key_arns),
            f"a key ARN for each same-account replication region with kms_key an ARN (missing: {', '.join(missing)})",
        )


def _account_key_policy(ctx: AwsContext) -> dict[str, Any]:
    """The default key policy: the account administers the key, IAM policies grant its use."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def _pull_policy(args: RegistryArgs) -> dict[str, Any] | None:
    if not args.pull_principals:
        return None
    principals = sorted({pull_principal_arn(p, partition=args.context.partition) for p in args.pull_principals})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowPullFromNamedPrincipals",
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": list(PULL_ACTIONS),
            }
        ],
    }


def template_trust_policy(ctx: AwsContext) -> dict[str, Any]:
    """ECR (for this account only) may assume the repository creation template role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecr.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            }
        ],
    }


def template_role_policy(
    ctx: AwsContext,
    namespace: str,
    regions: Sequence[str],
    key_arns: Sequence[str] = (),
    *,
    key_alias: str | None = None,
) -> dict[str, Any]:
    """What the ECR user guide's custom template policy grants, scoped: creating, replicating into and
    tagging the namespace's repositories in the replication regions, and grants on their keys.

    The keys are named by ARN when given (plain), or, for the keys this component creates (whose IDs
    AWS assigns), by their alias in each region through ``kms:ResourceAliases`` (AWS KMS developer
    guide, "Use aliases to control access to KMS keys"), so the document is known at preview and the
    IAM guardrails judge it there instead of turning into an advisory note.
    """
    repositories = [f"arn:{ctx.partition}:ecr:{r}:{ctx.account_id}:repository/{namespace}/*" for r in regions]
    keys: dict[str, Any] = {
        "Sid": "UseReplicaKeys",
        "Effect": "Allow",
        "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
        "Resource": list(key_arns),
    }
    if key_alias is not None:
        keys["Resource"] = [f"arn:{ctx.partition}:kms:{r}:{ctx.account_id}:key/*" for r in regions]
        keys["Condition"] = {"ForAnyValue:StringEquals": {"kms:ResourceAliases": key_alias}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateReplicatedRepositories",
                "Effect": "Allow",
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
                "Resource": repositories,
            },
            keys,
        ],
    }
