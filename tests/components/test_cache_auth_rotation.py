"""The AUTH token rotation function's four steps, against botocore clients whose requests are checked
against AWS's models (botocore validates every request before the Stubber answers it, and the Stubber
checks the answers against the output shapes): what each step calls, in which order, with what, and
what it refuses to do twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import botocore.session
import pytest
from botocore.stub import Stubber

from components.lambdas import cache_auth_token_rotation as rotation
from components.lambdas.cache_auth_token_rotation import CURRENT, PENDING, Rotation, RotationError

SECRET: Final = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform-test/cache-auth-token-AbCdEf"
GROUP: Final = "platform-test"
TOKEN: Final = "3b6c0ad7-5b46-4b59-9f7e-0123456789ab"
"""The ClientRequestToken Secrets Manager sends: the pending version's ID (32-64 characters)."""
OLD: Final = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
CREATED: Final = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NEW_TOKEN: Final = "N3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0ken"


@dataclass
class Stubs:
    secrets: Stubber
    elasticache: Stubber
    rotation: Rotation
    sleeps: list[float]


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    session = botocore.session.get_session()
    secrets, elasticache = (
        session.create_client(
            service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        for service in ("secretsmanager", "elasticache")
    )
    sleeps: list[float] = []
    with Stubber(secrets) as secrets_stub, Stubber(elasticache) as elasticache_stub:
        yield Stubs(
            secrets_stub,
            elasticache_stub,
            Rotation(
                secrets=secrets,
                elasticache=elasticache,
                secret_arn=SECRET,
                replication_group_id=GROUP,
                remaining_ms=lambda: 600_000,
                sleep=sleeps.append,
            ),
            sleeps,
        )
        secrets_stub.assert_no_pending_responses()
        elasticache_stub.assert_no_pending_responses()


def _event(step: str, token: str = TOKEN) -> dict[str, str]:
    return {"SecretId": SECRET, "ClientRequestToken": token, "Step": step}


def _describe(s: Stubs, stages: dict[str, list[str]] | None = None, *, enabled: bool = True) -> None:
    s.secrets.add_response(
        "describe_secret",
        {"ARN": SECRET, "RotationEnabled": enabled, "VersionIdsToStages": stages or {OLD: [CURRENT], TOKEN: [PENDING]}},
        {"SecretId": SECRET},
    )


def _versions(s: Stubs) -> None:
    s.secrets.add_response(
        "list_secret_version_ids",
        {
            "Versions": [
                {"VersionId": OLD, "VersionStages": [CURRENT], "CreatedDate": CREATED - timedelta(days=30)},
                {"VersionId": TOKEN, "VersionStages": [PENDING], "CreatedDate": CREATED},
            ]
        },
        {"SecretId": SECRET},
    )


def _group(s: Stubs, status: str, *, modified: datetime | None, pending: str | None = None) -> None:
    group: dict[str, Any] = {"ReplicationGroupId": GROUP, "Status": status, "AuthTokenEnabled": True}
    if modified is not None:
        group["AuthTokenLastModifiedDate"] = modified
    if pending is not None:
        group["PendingModifiedValues"] = {"AuthTokenStatus": pending}
    s.elasticache.add_response(
        "describe_replication_groups", {"ReplicationGroups": [group]}, {"ReplicationGroupId": GROUP}
    )


def _pending_value(s: Stubs) -> None:
    s.secrets.add_response(
        "get_secret_value",
        {"ARN": SECRET, "VersionId": TOKEN, "SecretString": NEW_TOKEN, "VersionStages": [PENDING]},
        {"SecretId": SECRET, "VersionId": TOKEN, "VersionStage": PENDING},
    )


# -- createSecret -----------------------------------------------------------------------------------
def test_create_puts_a_new_letters_and_digits_token_as_the_pending_version(stubs: Stubs) -> None:
    _describe(stubs)
    stubs.secrets.add_response(
        "get_secret_value",
        {"ARN": SECRET, "VersionId": OLD, "SecretString": "old", "VersionStages": [CURRENT]},
        {"SecretId": SECRET, "VersionStage": CURRENT},
    )
    stubs.secrets.add_client_error(
        "get_secret_value",
        service_error_code="ResourceNotFoundException",
        expected_params={"SecretId": SECRET, "VersionId": TOKEN, "VersionStage": PENDING},
    )
    stubs.secrets.add_response(
        "get_random_password",
        {"RandomPassword": NEW_TOKEN},
        # ElastiCache takes 16-128 printable characters but only a few specials: letters and digits.
        {"PasswordLength": 64, "ExcludePunctuation": True, "RequireEachIncludedType": True},
    )
    stubs.secrets.add_response(
        "put_secret_value",
        {"ARN": SECRET, "VersionId": TOKEN, "VersionStages": [PENDING]},
        {"SecretId": SECRET, "ClientRequestToken": TOKEN, "SecretString": NEW_TOKEN, "VersionStages": [PENDING]},
    )
    stubs.rotation.run(_event("createSecret"))
    assert 16 <= rotation.TOKEN_LENGTH <= 128


def test_create_keeps_a_pending_version_that_exists(stubs: Stubs) -> None:
    _describe(stubs)
    stubs.secrets.add_response(
        "get_secret_value",
        {"ARN": SECRET, "SecretString": "old"},
        {"SecretId": SECRET, "VersionStage": CURRENT},
    )
    _pending_value(stubs)
    stubs.rotation.run(_event("createSecret"))  # no get_random_password, no put_secret_value


# -- setSecret --------------------------------------------------------------------------------------
def test_set_rotates_the_pending_token_onto_the_group_keeping_the_previous_one(stubs: Stubs) -> None:
    _describe(stubs)
    _versions(stubs)
    _group(stubs, "available", modified=CREATED - timedelta(days=30))
    _pending_value(stubs)
    stubs.elasticache.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP, "Status": "modifying"}},
        {
            "ReplicationGroupId": GROUP,
            "AuthToken": NEW_TOKEN,
            "AuthTokenUpdateStrategy": "ROTATE",
            "ApplyImmediately": True,
        },
    )
    stubs.rotation.run(_event("setSecret"))
    assert stubs.sleeps == []


def test_set_waits_for_a_group_busy_with_something_else(stubs: Stubs) -> None:
    _describe(stubs)
    _versions(stubs)
    _group(stubs, "modifying", modified=CREATED - timedelta(days=30))
    _group(stubs, "snapshotting", modified=CREATED - timedelta(days=30))
    _group(stubs, "available", modified=CREATED - timedelta(days=30))
    _pending_value(stubs)
    stubs.elasticache.add_response(
        "modify_replication_group",
        {"ReplicationGroup": {"ReplicationGroupId": GROUP}},
        {
            "ReplicationGroupId": GROUP,
            "AuthToken": NEW_TOKEN,
            "AuthTokenUpdateStrategy": "ROTATE",
            "ApplyImmediately": True,
        },
    )
    stubs.rotation.run(_event("setSecret"))
    assert stubs.sleeps == [rotation.POLL_SECONDS, rotation.POLL_SECONDS]


@pytest.mark.parametrize(
    ("status", "modified", "pending"),
    [
        ("available", CREATED + timedelta(minutes=3), None),  # applied by an earlier attempt
        ("modifying", CREATED + timedelta(minutes=1), "ROTATING"),  # being applied now
    ],
    ids=["applied", "applying"],
)
def test_a_retried_set_never_rotates_twice(stubs: Stubs, status: str, modified: datetime, pending: str | None) -> None:
    """A second ROTATE would drop the token clients still hold (AWSCURRENT): the step is skipped."""
    _describe(stubs)
    _versions(stubs)
    _group(stubs, status, modified=modified, pending=pending)
    stubs.rotation.run(_event("setSecret"))  # no modify_replication_group


# -- testSecret -------------------------------------------------------------------------------------
def test_test_waits_until_elasticache_has_applied_the_token(stubs: Stubs) -> None:
    _describe(stubs)
    _versions(stubs)
    _group(stubs, "modifying", modified=CREATED - timedelta(days=30), pending="ROTATING")
    _group(stubs, "available", modified=CREATED - timedelta(days=30))  # not yet the new token
    _group(stubs, "available", modified=CREATED + timedelta(minutes=4))
    stubs.rotation.run(_event("testSecret"))
    assert stubs.sleeps == [rotation.POLL_SECONDS] * 2


def test_test_gives_up_before_the_invocation_times_out(stubs: Stubs) -> None:
    stubs.rotation.remaining_ms = lambda: rotation.MARGIN_MS  # no time for another poll
    _describe(stubs)
    _versions(stubs)
    _group(stubs, "modifying", modified=None, pending="ROTATING")
    with pytest.raises(RotationError, match="still 'modifying'; Secrets Manager retries"):
        stubs.rotation.run(_event("testSecret"))
    assert stubs.sleeps == []


# -- finishSecret -----------------------------------------------------------------------------------
def test_finish_makes_the_new_version_current(stubs: Stubs) -> None:
    _describe(stubs)
    _describe(stubs)
    stubs.secrets.add_response(
        "update_secret_version_stage",
        {"ARN": SECRET},
        {"SecretId": SECRET, "VersionStage": CURRENT, "MoveToVersionId": TOKEN, "RemoveFromVersionId": OLD},
    )
    stubs.rotation.run(_event("finishSecret"))


@pytest.mark.parametrize("step", rotation.STEPS)
def test_a_version_already_current_needs_nothing(stubs: Stubs, step: str) -> None:
    _describe(stubs, {TOKEN: [CURRENT, PENDING], OLD: ["AWSPREVIOUS"]})
    stubs.rotation.run(_event(step))


# -- what it refuses --------------------------------------------------------------------------------
def test_another_secret_is_refused_before_any_call(stubs: Stubs) -> None:
    other = SECRET.replace("platform-test", "other")
    with pytest.raises(RotationError, match="may not be rotated by this function"):
        stubs.rotation.run({"SecretId": other, "ClientRequestToken": TOKEN, "Step": "setSecret"})


@pytest.mark.parametrize(
    ("stages", "enabled", "message"),
    [
        ({OLD: [CURRENT], TOKEN: [PENDING]}, False, "not enabled for rotation"),
        ({OLD: [CURRENT]}, True, "has no stage for rotation"),
        ({OLD: [CURRENT], TOKEN: ["AWSPREVIOUS"]}, True, "is not AWSPENDING"),
    ],
)
def test_a_version_not_staged_for_rotation_is_refused(
    stubs: Stubs, stages: dict[str, list[str]], enabled: bool, message: str
) -> None:
    _describe(stubs, stages, enabled=enabled)
    with pytest.raises(RotationError, match=message):
        stubs.rotation.run(_event("setSecret"))


def test_an_unknown_step_is_refused(stubs: Stubs) -> None:
    with pytest.raises(RotationError, match="unknown step 'rotateSecret'"):
        stubs.rotation.run(_event("rotateSecret"))


def test_the_handler_builds_its_clients_and_pins_its_secret_from_the_environment(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = {"secretsmanager": stubs.rotation.secrets, "elasticache": stubs.rotation.elasticache}

    class Session:
        def create_client(self, service: str) -> Any:
            return clients[service]

    class Context:
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 600_000

    monkeypatch.setattr(botocore.session, "get_session", Session)
    monkeypatch.setenv("SECRET_ARN", SECRET)
    monkeypatch.setenv("REPLICATION_GROUP_ID", GROUP)
    _describe(stubs)
    _describe(stubs)
    stubs.secrets.add_response(
        "update_secret_version_stage",
        {"ARN": SECRET},
        {"SecretId": SECRET, "VersionStage": CURRENT, "MoveToVersionId": TOKEN, "RemoveFromVersionId": OLD},
    )
    rotation.lambda_handler(_event("finishSecret"), Context())
    monkeypatch.setenv("SECRET_ARN", SECRET.replace("platform-test", "other"))
    with pytest.raises(RotationError, match="may not be rotated"):
        rotation.lambda_handler(_event("finishSecret"), Context())


def test_the_pending_version_is_found_on_a_later_page(stubs: Stubs) -> None:
    _describe(stubs)
    stubs.secrets.add_response(
        "list_secret_version_ids",
        {"Versions": [{"VersionId": OLD, "CreatedDate": CREATED - timedelta(days=30)}], "NextToken": "page-2"},
        {"SecretId": SECRET},
    )
    stubs.secrets.add_response(
        "list_secret_version_ids",
        {"Versions": [{"VersionId": TOKEN, "CreatedDate": CREATED}]},
        {"SecretId": SECRET, "NextToken": "page-2"},
    )
    _group(stubs, "available", modified=CREATED + timedelta(seconds=1))
    stubs.rotation.run(_event("testSecret"))
