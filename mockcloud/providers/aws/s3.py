"""S3 (``aws:s3/...``): buckets, and their sub-resources, each identified by its bucket name."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import PARTITION, Cloud, physical_name
from mockcloud.registry import Outputs, outputs


@outputs("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    bucket = physical_name(name, inputs, key="bucket", max_length=63).lower()
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{cloud.region}.amazonaws.com",
        "region": cloud.region,
    }


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
