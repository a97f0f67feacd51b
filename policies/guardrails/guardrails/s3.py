"""S3: buckets never public (public access block, no public ACLs, ACLs disabled), TLS only, encrypted.

The settings live in their own resources (``BucketPublicAccessBlock``, ``BucketPolicy``,
``BucketOwnershipControls``, ``BucketServerSideEncryptionConfiguration``), so the bucket checks are
stack policies that find each bucket's companions by property dependency on ``bucket`` (known at
preview) or by its known name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .documents import as_strings, statements
from .props import as_mapping, is_set, iter_mappings
from .rules import Report, StackView, referenced, resource_policy, stack_policy

PUBLIC_ACCESS_BLOCK_FLAGS: Final = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS: Final = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEES: Final = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def _companions(view: StackView, bucket: PolicyResource, *types: str) -> list[PolicyResource]:
    """Resources of ``types`` whose ``bucket`` input is this bucket (dependency or known name)."""
    return [r for r in view.of_type(*types) if bucket.urn in referenced(r, "bucket", [bucket], keys=("bucket", "id"))]


# -- public access block ----------------------------------------------------------------------------
def _unset_flags(props: Mapping[str, Any]) -> list[str]:
    return [flag for flag in PUBLIC_ACCESS_BLOCK_FLAGS if props.get(flag) is not True]


def _public_access_block(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for block in view.of_type(t.S3_PUBLIC_ACCESS_BLOCK, t.S3_ACCOUNT_PUBLIC_ACCESS_BLOCK):
        with view.reading(block):
            if missing := _unset_flags(block.props):
                report(f"Public access block {block.name} leaves {', '.join(missing)} off.", block.urn)
    for bucket in view.of_type(t.S3_BUCKETS):
        with view.reading(bucket):
            if not _companions(view, bucket, t.S3_PUBLIC_ACCESS_BLOCK):
                report(
                    f"Bucket {bucket.name} has no BucketPublicAccessBlock: one ACL or policy statement makes it "
                    "public.",
                    bucket.urn,
                )


# -- ACLs -------------------------------------------------------------------------------------------
def _public_grants(grants: Any) -> list[str]:
    found = []
    for grant in iter_mappings(grants):
        grantee = as_mapping(grant.get("grantee"))
        uri = grant.get("uri") or grantee.get("uri")
        if uri in PUBLIC_GRANTEES:
            found.append(
                f"{str(uri).rsplit('/', 1)[-1]}: {grant.get('permission') or as_strings(grant.get('permissions'))}"
            )
    return found


def _no_public_acl(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    acl = props.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_CANNED_ACLS:
        what = "the object" if args.resource_type in (t.S3_OBJECT, t.S3_OBJECT_V2) else "the bucket's objects"
        report(f"acl={acl!r} opens {what} to {'everyone' if 'public' in acl else 'any AWS account'}.")
    grants = props.get("grants") if args.resource_type in t.S3_BUCKETS else None
    if args.resource_type == t.S3_BUCKET_ACL_V2 or args.resource_type == t.S3_BUCKET_ACL:
        grants = as_mapping(props.get("accessControlPolicy")).get("grants")
    if found := _public_grants(grants):
        report(f"ACL grants to public groups: {found}.")


def _acls_disabled(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for bucket in view.of_type(t.S3_BUCKETS):
        with view.reading(bucket):
            controls = _companions(view, bucket, t.S3_OWNERSHIP_CONTROLS)
            owners = [as_mapping(c.props.get("rule")).get("objectOwnership") for c in controls]
            if "BucketOwnerEnforced" not in owners:
                report(
                    f"Bucket {bucket.name}: ACLs are not disabled (no BucketOwnershipControls with "
                    f"objectOwnership=BucketOwnerEnforced; got {owners or 'none'}).",
                    bucket.urn,
                )


# -- TLS only ---------------------------------------------------------------------------------------
def _denies_plain_http(document: Any) -> tuple[bool, bool]:
    """(denies insecure transport on the bucket, ... on its objects) per the S3 TLS-only pattern."""
    bucket_level = objects = False
    for s in statements(document):
        if s.effect != "Deny" or not s.public_principal():
            continue
        if not any(a in ("*", "s3:*") for a in s.actions):
            continue
        secure = as_strings(as_mapping(s.conditions.get("Bool")).get("aws:SecureTransport"))
        if "false" not in [v.lower() for v in secure]:
            continue
        for resource in s.resources:
            if resource == "*" or resource.endswith("/*"):
                objects = True
            if resource == "*" or "/" not in resource.split(":::", 1)[-1]:
                bucket_level = True
    return bucket_level, objects


def _tls_only(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for bucket in view.of_type(t.S3_BUCKETS):
        with view.reading(bucket):
            documents = [
                p.props["policy"] for p in _companions(view, bucket, t.S3_BUCKET_POLICY) if is_set(p.props, "policy")
            ]
            if is_set(bucket.props, "policy"):
                documents.append(bucket.props["policy"])
            covered = [_denies_plain_http(d) for d in documents]
            if not any(b for b, _ in covered) or not any(o for _, o in covered):
                report(
                    f"Bucket {bucket.name}: no policy denies requests without TLS (Deny s3:* on the bucket and "
                    "bucket/* to Principal '*' when aws:SecureTransport is false).",
                    bucket.urn,
                )


# -- encryption -------------------------------------------------------------------------------------
def _default_encryption(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for bucket in view.of_type(t.S3_BUCKETS):
        with view.reading(bucket):
            if is_set(bucket.props, "serverSideEncryptionConfiguration"):
                continue
            if not _companions(view, bucket, t.S3_ENCRYPTION, t.S3_ENCRYPTION_V2):
                report(
                    f"Bucket {bucket.name} declares no default encryption "
                    "(BucketServerSideEncryptionConfiguration): state SSE-S3 or SSE-KMS explicitly.",
                    bucket.urn,
                )


# -- lifecycle --------------------------------------------------------------------------------------
_FILTER_KEYS: Final = ("prefix", "tag", "objectSizeGreaterThan", "objectSizeLessThan", "and")


def _aborts_everywhere(rule: Mapping[str, Any]) -> bool:
    """An enabled rule aborting incomplete multipart uploads with no filter narrowing it (the whole bucket)."""
    if rule.get("status") != "Enabled":
        return False
    if as_mapping(rule.get("abortIncompleteMultipartUpload")).get("daysAfterInitiation") is None:
        return False
    filter_ = as_mapping(rule.get("filter"))
    return not rule.get("prefix") and not any(filter_.get(key) for key in _FILTER_KEYS)


def _abort_incomplete_uploads(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for bucket in view.of_type(t.S3_BUCKETS):
        with view.reading(bucket):
            lifecycles = _companions(view, bucket, t.S3_LIFECYCLE, t.S3_LIFECYCLE_V2)
            if not any(_aborts_everywhere(rule) for c in lifecycles for rule in iter_mappings(c.props.get("rules"))):
                where = "has no BucketLifecycleConfiguration" if not lifecycles else "has no lifecycle rule"
                report(
                    f"Bucket {bucket.name} {where} aborting incomplete multipart uploads in the whole bucket "
                    "(enabled, abortIncompleteMultipartUpload.daysAfterInitiation, no filter): their parts are "
                    "billed forever and never listed.",
                    bucket.urn,
                )


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        stack_policy(
            name="s3-public-access-block",
            description="Every S3 bucket has a public access block with all four settings on.",
            check=_public_access_block,
            enforcement=mandatory,
            severity=Severity.CRITICAL,
            remediation="aws.s3.BucketPublicAccessBlock(bucket=..., block_public_acls=True, block_public_policy=True, "
            "ignore_public_acls=True, restrict_public_buckets=True)",
        ),
        resource_policy(
            name="s3-no-public-acl",
            description="No S3 bucket ACL grants access to everyone or to all authenticated AWS users.",
            types=[*t.S3_BUCKETS, t.S3_BUCKET_ACL, t.S3_BUCKET_ACL_V2, t.S3_OBJECT, t.S3_OBJECT_V2],
            check=_no_public_acl,
            enforcement=mandatory,
            severity=Severity.CRITICAL,
            remediation="Remove public canned ACLs and grants; disable ACLs with BucketOwnershipControls "
            "(BucketOwnerEnforced) and grant access with a bucket policy naming principals.",
        ),
        stack_policy(
            name="s3-acls-disabled",
            description="Every S3 bucket disables ACLs (object ownership BucketOwnerEnforced).",
            check=_acls_disabled,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="aws.s3.BucketOwnershipControls(bucket=..., rule={object_ownership: 'BucketOwnerEnforced'})",
        ),
        stack_policy(
            name="s3-tls-only",
            description="Every S3 bucket policy denies requests that do not use TLS.",
            check=_tls_only,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="A BucketPolicy statement: Effect Deny, Principal '*', Action s3:*, Resource [bucket ARN, "
            "bucket ARN/*], Condition {Bool: {aws:SecureTransport: 'false'}}.",
        ),
        stack_policy(
            name="s3-default-encryption",
            description="Every S3 bucket declares its default encryption.",
            check=_default_encryption,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm AES256 or aws:kms.",
        ),
        stack_policy(
            name="s3-abort-incomplete-uploads",
            description="Every S3 bucket has a lifecycle rule aborting incomplete multipart uploads bucket-wide.",
            check=_abort_incomplete_uploads,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="aws.s3.BucketLifecycleConfiguration with a rule {status: Enabled, filter: {}, "
            "abort_incomplete_multipart_upload: {days_after_initiation: 7}}.",
        ),
    ]
