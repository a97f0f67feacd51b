"""RDS policies: encrypted storage, not public, deletion protection."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from tests.policies.support import Analyze, flagged
from tests.support import ComponentRunner


def _instance(name: str, **overrides: Any) -> aws.rds.Instance:
    args: dict[str, Any] = {
        "engine": "postgres",
        "engine_version": "17",
        "instance_class": "db.t4g.micro",
        "allocated_storage": 20,
        "username": "app",
        "manage_master_user_password": True,
        "storage_encrypted": True,
        "publicly_accessible": False,
        "deletion_protection": True,
        **overrides,
    }
    return aws.rds.Instance(name, **args)


def _databases() -> None:
    primary = _instance("good")
    _instance("replica", replicate_source_db=primary.identifier, storage_encrypted=None, username=None)
    _instance("unencrypted", storage_encrypted=False)
    _instance("public", publicly_accessible=True)
    _instance("unprotected", deletion_protection=False)


def test_databases_are_encrypted_private_and_protected(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_databases))
    assert flagged(report, "rds-storage-encrypted") == {"unencrypted"}
    assert flagged(report, "rds-not-public") == {"public"}
    assert flagged(report, "rds-deletion-protection") == {"unprotected"}
