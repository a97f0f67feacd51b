"""ARN shapes that more than one component accepts as input, checked before anything is created.

One home for each pattern: a KMS key given to the cache, the database and the registry is judged by
the same rule, and an alarm topic by the same rule wherever alarms are created.
"""

from __future__ import annotations

import re
from typing import Final

from components.errors import InputError

# Key IDs are UUIDs, or ``mrk-`` + 32 hex digits for multi-Region keys; aliases are
# ``alias/<name>`` (letters, digits, / _ -), per the KMS API reference (KeyId, AliasName).
KMS_KEY_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
    r"|alias/[A-Za-z0-9/_-]{1,250})$"
)
SNS_TOPIC_ARN: Final = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
ACM_CERTIFICATE_ARN: Final = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")

KMS_KEY_ARN_ALLOWED: Final = "a KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id> or alias/<name>)"
SNS_TOPIC_ARN_ALLOWED: Final = "an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)"
ACM_CERTIFICATE_ARN_ALLOWED: Final = "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"


def check_kms_key_arn(setting: str, value: str | None) -> None:
    """None (AWS-managed key) or a KMS key/alias ARN."""
    if value is not None and not KMS_KEY_ARN.match(value):
        raise InputError(setting, value, f"none (the AWS-managed key), or {KMS_KEY_ARN_ALLOWED}")


def check_sns_topic_arn(setting: str, value: str | None) -> None:
    """None (no notifications) or an SNS topic ARN."""
    if value is not None and not SNS_TOPIC_ARN.match(value):
        raise InputError(setting, value, f"none (no notifications), or {SNS_TOPIC_ARN_ALLOWED}")


def check_certificate_arn(setting: str, value: str | None) -> None:
    """None (no HTTPS) or an ACM certificate ARN."""
    if value is not None and not ACM_CERTIFICATE_ARN.match(value):
        raise InputError(setting, value, f"none (HTTP only), or {ACM_CERTIFICATE_ARN_ALLOWED}")
