"""Account, region and partition as plain values, resolved once per run.

Policies read IAM documents and ARNs at ``pulumi preview``. A document built from another
resource's ``arn`` output is *unknown* until that resource exists, and pulumi-policy turns a check on
an unknown value into an advisory note, so a mandatory rule would silently stop biting. Components
therefore compose ARNs of resources with explicit names from these plain values, so the documents
are known at preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi_aws as aws

from components.errors import require


@dataclass(frozen=True, kw_only=True)
class AwsContext:
    """Where the stack deploys."""

    account_id: str
    region: str
    partition: str = "aws"
    dns_suffix: str = "amazonaws.com"

    def __post_init__(self) -> None:
        require(
            self.account_id.isdigit() and len(self.account_id) == 12,
            "account_id",
            self.account_id,
            "a 12-digit AWS account ID",
        )

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        region = self.region if regional else ""
        account = self.account_id if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def service_name(self, service: str) -> str:
        """VPC endpoint service name, e.g. ``com.amazonaws.eu-west-1.ecr.api``."""
        return f"com.amazonaws.{self.region}.{service}"

    @classmethod
    def current(cls) -> AwsContext:
        """Ask the provider (synchronous invokes: these decide names, never hang off an Output)."""
        identity = aws.get_caller_identity()
        partition = aws.get_partition()
        return cls(
            account_id=identity.account_id,
            region=aws.get_region().region,
            partition=partition.partition,
            dns_suffix=partition.dns_suffix,
        )


def service_trust_policy(ctx: AwsContext, service: str, source_arn: str) -> dict[str, Any]:
    """An AWS service principal may assume the role only when acting for ``source_arn`` in this
    account: the ``aws:SourceAccount`` and ``aws:SourceArn`` conditions AWS documents against the
    confused-deputy problem."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            }
        ],
    }
