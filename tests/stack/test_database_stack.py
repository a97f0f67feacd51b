"""The database as the stack configures and wires it: bad database config stopped before anything
exists, dev's and prod's instances, and the exports."""

from __future__ import annotations

from typing import Any

import pytest

from mockcloud.runner import StackRun
from stack import exports
from tests.support import assert_config_rejected

INSTANCE = "aws:rds/instance:Instance"
SG = "aws:ec2/securityGroup:SecurityGroup"


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "allowed"),
    [
        ("dev", {"dbEngineVersion": "13"}, "dbEngineVersion", "one of 14, 15, 16, 17"),
        ("dev", {"dbInstanceClass": "m7g.large"}, "dbInstanceClass", "an RDS instance class"),
        ("dev", {"dbAllocatedStorage": 5}, "dbAllocatedStorage", "from 20 to 65536"),
        ("dev", {"dbMaxAllocatedStorage": 20}, "dbMaxAllocatedStorage", "more than dbAllocatedStorage (20)"),
        ("dev", {"dbBackupRetentionDays": 0}, "dbBackupRetentionDays", "from 1 to 35"),
        ("dev", {"dbName": "Catalog"}, "dbName", "lowercase letters"),
        ("dev", {"dbUsername": "rdsadmin"}, "dbUsername",
         "not one of postgres, rds_iam, rds_superuser, rdsadmin, rdsrepladmin"),
        ("dev", {"dbBackupWindow": "03:00-04:00", "dbMaintenanceWindow": "sun:03:30-sun:04:30"}, "dbMaintenanceWindow",
         "apart from dbBackupWindow"),
        ("dev", {"dbKmsKeyArn": "my-key"}, "dbKmsKeyArn", "a KMS key or alias ARN"),
        ("prod", {"dbMultiAz": False}, "dbMultiAz", "true with environment=prod"),
        ("prod", {"dbBackupRetentionDays": 3}, "dbBackupRetentionDays", "7 to 35 with environment=prod"),
        ("prod", {"dbPerformanceInsights": False}, "dbPerformanceInsights", "true with environment=prod"),
    ],
)  # fmt: skip
def test_bad_database_config_is_rejected_before_anything_exists(
    stack: str, overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected(stack, overrides, key, allowed)


def test_dev_is_single_az_and_cheap_prod_is_multi_az_and_protected(stack_run: StackRun) -> None:
    db = stack_run.one(INSTANCE).inputs
    isolated = stack_run.outputs[exports.ISOLATED_SUBNET_IDS]
    assert stack_run.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == isolated
    assert db["identifier"] == f"container-platform-{stack_run.stack}"
    assert db["manageMasterUserPassword"] is True
    if stack_run.stack == "prod":
        assert (db["instanceClass"], db["multiAz"], db["deletionProtection"]) == ("db.m7g.large", True, True)
        assert db["skipFinalSnapshot"] is False
        assert db["backupRetentionPeriod"] == 14
        assert db["performanceInsightsEnabled"] is True
        assert db["applyImmediately"] is False
    else:
        assert (db["instanceClass"], db["multiAz"], db["deletionProtection"]) == ("db.t4g.micro", False, False)
        assert db["skipFinalSnapshot"] is True


def test_program_exports_the_connection_and_the_secret_arn_only(stack_run: StackRun) -> None:
    out = stack_run.outputs
    instance = stack_run.one(INSTANCE)
    assert out[exports.DATABASE_ENDPOINT] == instance.outputs["address"]
    assert (out[exports.DATABASE_PORT], out[exports.DATABASE_NAME], out[exports.DATABASE_USERNAME]) == (
        5432,
        "catalog",
        "catalog_admin",
    )
    assert out[exports.DATABASE_SECRET_ARN] == instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert out[exports.DATABASE_SECURITY_GROUP_ID] == stack_run.one(SG, f"{stack_run.stack}-db-sg").id
    assert not {"password", "passwordWo"} & set(instance.inputs)
