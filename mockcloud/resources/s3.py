"""S3 bucket sub-resources (the bucket itself is in aws_cloud.py): each is identified by its bucket name."""

from __future__ import annotations

from typing import Any

from mockcloud.aws_cloud import Cloud, Outputs, outputs


@outputs(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketVersioning:BucketVersioning",
)
def _bucket_part(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("bucket") or name), {}
