"""The offline plan's "replaces on change" warning: a replacement-forcing input of a resource that holds
data, changed against the previous plan of the stack, is named loudly in the summary with the settings
that changed; and the settings each data store lists as replacing it are proved by changing them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Final

import pytest

from offline import plan, replacements
from offline.plan_output import plan_document
from tests.support import cached_run

RDS: Final = "aws:rds/instance:Instance"
GROUP: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
REPOSITORY: Final = "aws:ecr/repository:Repository"
KEY: Final = "aws:kms/key:Key"
CMK: Final = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _document(stack: str, *, preview: bool = False, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        json.dumps(plan_document(cached_run(stack, preview=preview, **overrides)), default=str)
    )
    return document


def _replaced(before: dict[str, Any], after: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    comparison = replacements.compare(before, after, source="previous.json")
    return {(c.kind, c.type): {p for p, _, _ in c.properties} for c in comparison.changes}


# -- the comparison ---------------------------------------------------------------------------------
def _resource(
    type_: str, name: str, inputs: dict[str, Any], deps: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"urn": f"urn:{type_}::{name}", "type": type_, "name": name, "inputs": inputs,
            "propertyDependencies": deps or {}}  # fmt: skip


def _plan(*resources: dict[str, Any], config: dict[str, str] | None = None) -> dict[str, Any]:
    return {"project": "p", "stack": "s", "resources": list(resources), "config": config or {}}


def test_a_changed_replacement_forcing_input_is_a_replacement_and_other_changes_are_not() -> None:
    before = _plan(_resource(RDS, "db", {"kmsKeyId": None, "instanceClass": "db.t4g.micro"}), config={"p:a": "1"})
    after = _plan(_resource(RDS, "db", {"kmsKeyId": CMK, "instanceClass": "db.m7g.large"}), config={"p:a": "2"})
    comparison = replacements.compare(before, after, source="previous.json")
    (change,) = comparison.changes
    assert (change.kind, change.name, change.properties) == ("REPLACED", "db", (("kmsKeyId", None, CMK),))
    assert comparison.settings == (("a", "1", "2"),)
    resized = _plan(_resource(RDS, "db", {"kmsKeyId": None, "instanceClass": "db.m7g.large"}))
    assert replacements.compare(before, resized, source="x").changes == ()


def test_values_known_only_after_deployment_are_compared_by_their_source() -> None:
    key = {"kmsKeyId": [f"urn:{KEY}::data"]}
    before = _plan(_resource(GROUP, "cache", {"kmsKeyId": replacements.UNKNOWN}, key))
    same = _plan(_resource(GROUP, "cache", {"kmsKeyId": "arn:aws:kms:...:key/1"}, key))
    other = _plan(_resource(GROUP, "cache", {"kmsKeyId": replacements.UNKNOWN}, {"kmsKeyId": [f"urn:{KEY}::other"]}))
    assert replacements.compare(before, same, source="x").changes == ()
    assert [c.kind for c in replacements.compare(before, other, source="x").changes] == ["REPLACED"]


def test_a_data_store_the_new_plan_lacks_is_deleted_and_another_stacks_plan_is_not_compared() -> None:
    before = _plan(
        _resource(KEY, "keys-data", {"keyUsage": "ENCRYPT_DECRYPT"}), _resource("aws:s3/bucket:Bucket", "b", {})
    )
    (change,) = replacements.compare(before, _plan(), source="x").changes
    assert (change.kind, change.type) == ("DELETED", KEY)
    elsewhere = {**_plan(), "stack": "other"}
    comparison = replacements.compare(elsewhere, _plan(), source="x")
    assert comparison.changes == ()
    assert comparison.problem == "it is a plan of p/other, not of p/s"


# -- the settings each data store names, proved on the real program ---------------------------------
@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({}, {"customerManagedKeys": True}, {("REPLACED", RDS): {"kmsKeyId"}, ("REPLACED", GROUP): {"kmsKeyId"}}),
        (
            {"customerManagedKeys": True},
            {},
            {("REPLACED", RDS): {"kmsKeyId"}, ("REPLACED", GROUP): {"kmsKeyId"}, **{("DELETED", KEY): set()}},
        ),
        ({}, {"dbKmsKeyArn": CMK}, {("REPLACED", RDS): {"kmsKeyId"}}),
        ({}, {"cacheKmsKeyArn": CMK}, {("REPLACED", GROUP): {"kmsKeyId"}}),
        ({}, {"dbName": "shop"}, {("REPLACED", RDS): {"dbName"}}),
        ({}, {"dbUsername": "shop_admin"}, {("REPLACED", RDS): {"username"}}),
        ({}, {"ecrKmsKey": "customer-managed"}, {("REPLACED", REPOSITORY): {"encryptionConfigurations"}}),
        (
            {"ecrKmsKey": "customer-managed"},
            {},
            {("REPLACED", REPOSITORY): {"encryptionConfigurations"}, ("DELETED", KEY): set()},
        ),
        # Changes a deployed stack takes in place: nothing that holds data is replaced.
        ({}, {"dbInstanceClass": "db.m7g.large", "cacheNodeType": "cache.r7g.large", "dbIamAuth": False}, {}),
    ],
    ids=["keys-on", "keys-off", "db-key", "cache-key", "db-name", "db-user", "ecr-key", "ecr-key-off", "in-place"],
)
def test_the_settings_named_for_each_data_store_replace_it(
    before: dict[str, Any], after: dict[str, Any], expected: dict[tuple[str, str], set[str]]
) -> None:
    assert _replaced(_document("dev", **before), _document("dev", **after)) == expected
    for (_, type_), _props in expected.items():
        assert set(after) | set(before) <= set(replacements.STATEFUL[type_].settings), type_


def test_preview_plans_compare_by_source_too() -> None:
    base = _document("prod", preview=True)
    assert replacements.compare(copy.deepcopy(base), base, source="x").changes == ()
    assert replacements.compare(_document("prod"), base, source="x").changes == ()
    changed = _replaced(_document("dev", preview=True), _document("dev", preview=True, customerManagedKeys=True))
    assert changed == {("REPLACED", RDS): {"kmsKeyId"}, ("REPLACED", GROUP): {"kmsKeyId"}}


# -- the plan's summary -----------------------------------------------------------------------------
def _summary(out: str) -> str:
    return out.split("\nSummary\n", 1)[1]


def test_the_summary_warns_loudly_against_the_previous_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    markdown = tmp_path / "summary.md"
    assert plan.main(["dev", "--out", str(tmp_path)]) == plan.EXIT_OK
    first = _summary(capsys.readouterr().out)
    assert "Data:      no previous plan to compare with; these settings replace (or delete) what holds data:" in first
    assert "database: customerManagedKeys, dbKmsKeyArn, dbName, dbUsername" in first
    assert "cache: customerManagedKeys, cacheKmsKeyArn" in first

    assert plan.main(["dev", "--out", str(tmp_path)]) == plan.EXIT_OK
    assert "Data:      nothing that holds data is replaced or deleted, compared with " in capsys.readouterr().out

    code = plan.main(["dev", "-c", "customerManagedKeys=true", "--out", str(tmp_path), "--summary-file", str(markdown)])
    assert code == plan.EXIT_OK  # a warning, not a policy failure: `pulumi up` would do it if asked
    summary = _summary(capsys.readouterr().out).splitlines()
    assert summary[1].startswith("  REPLACES:  2 resource(s) holding data would be REPLACED or DELETED")
    assert any(line.startswith("    REPLACED aws:rds:Instance dev-db-instance: the database") for line in summary)
    assert any(line.startswith("    REPLACED aws:elasticache:ReplicationGroup dev-cache-group") for line in summary)
    assert any(line.strip() == "because kmsKeyId (not set) -> " + line.strip().split("-> ")[-1] for line in summary)
    assert "    settings changed since that plan: customerManagedKeys false -> true" in summary
    text = markdown.read_text()
    for expected in ("> [!WARNING]", "`dev-db-instance`", "`customerManagedKeys`"):
        assert expected in text


def test_a_given_previous_plan_is_compared_instead(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = tmp_path / "main"
    assert plan.main(["dev", "-c", "dbName=shop", "--out", str(main)]) == plan.EXIT_OK
    capsys.readouterr()
    previous = main / "plan-dev.json"
    assert plan.main(["dev", "--out", str(tmp_path / "branch"), "--previous", str(previous)]) == plan.EXIT_OK
    summary = _summary(capsys.readouterr().out)
    assert "REPLACED aws:rds:Instance dev-db-instance" in summary
    assert "dbName 'shop' -> 'catalog'" in summary or "dbName shop -> catalog" in summary
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert plan.main(["dev", "--out", str(tmp_path / "b2"), "--previous", str(broken)]) == plan.EXIT_OK
    assert "is unreadable" in _summary(capsys.readouterr().out)
