"""Secrets Manager rotation function for an ElastiCache (Valkey / Redis OSS) replication group's AUTH token.

AWS provides a rotation template for ElastiCache RBAC *user passwords* (SecretsManagerElasticacheUserRotation,
which calls ModifyUser and needs a JSON secret with ``username``, ``password`` and ``user_arn``), but none
for a replication group's AUTH token. This function rotates the token with the four steps Secrets
Manager runs (Secrets Manager User Guide, "Lambda rotation functions"):

``createSecret``
    A new token from GetRandomPassword (64 letters and digits: ElastiCache takes 16-128 printable
    characters and only a few specials) as the ``AWSPENDING`` version, unless that version exists.
``setSecret``
    ``ModifyReplicationGroup(AuthToken=<pending>, AuthTokenUpdateStrategy=ROTATE, ApplyImmediately=True)``
    once the group is available. ROTATE keeps the previous token valid next to the new one, and on a
    group that already has two it drops the oldest (ElastiCache User Guide, "Modifying the AUTH token
    on an existing cluster"). So the tokens the cache accepts are always AWSCURRENT and AWSPREVIOUS: a
    client holding the token it read before a rotation keeps working until the next one, and reads
    AWSCURRENT again when AUTH fails. A retried step must not rotate twice (that would drop the token
    clients still use): it is skipped when the group already carries a token newer than the pending
    version, or is applying one.
``testSecret``
    Waits until ElastiCache has applied the token: the group is ``available``, no AUTH token change is
    pending, and its ``AuthTokenLastModifiedDate`` is after the pending version was created. It does not
    connect (the function runs outside the VPC), as AWS's ElastiCache user rotation template only waits
    for the user to be active.
``finishSecret``
    Moves ``AWSCURRENT`` to the new version; the old one becomes ``AWSPREVIOUS``.

Environment: ``SECRET_ARN`` (the one secret this function may rotate) and ``REPLICATION_GROUP_ID``.
The token is never logged. Only the standard library and botocore (part of every Lambda Python runtime)
are imported: this file is the whole deployment package.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import botocore.session

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)

CURRENT: Final = "AWSCURRENT"
PENDING: Final = "AWSPENDING"
TOKEN_LENGTH: Final = 64
"""Letters and digits only (the AUTH token travels in URLs and shells, where ElastiCache's specials need escaping)."""
POLL_SECONDS: Final = 15.0
MARGIN_MS: Final = 30_000
"""Stop waiting this long before the invocation's time runs out; Secrets Manager retries the step."""
STEPS: Final = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(RuntimeError):
    """The rotation cannot go on now (Secrets Manager records the failure and retries)."""


def _never() -> int:
    return 900_000


@dataclass
class Rotation:
    """One invocation's work: ``run(event)`` performs the step the event names."""

    secrets: Any
    """A botocore ``secretsmanager`` client."""
    elasticache: Any
    """A botocore ``elasticache`` client."""
    secret_arn: str
    replication_group_id: str
    remaining_ms: Callable[[], int] = _never
    """Time left in this invocation (the Lambda context's ``get_remaining_time_in_millis``)."""
    sleep: Callable[[float], None] = field(default=time.sleep)

    def run(self, event: Mapping[str, Any]) -> None:
        secret_id, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        if secret_id != self.secret_arn:
            raise RotationError(
                f"secret {secret_id} may not be rotated by this function (it rotates {self.secret_arn})"
            )
        if step not in STEPS:
            raise RotationError(f"unknown step {step!r}; Secrets Manager sends one of {', '.join(STEPS)}")
        metadata = self.secrets.describe_secret(SecretId=secret_id)
        if not metadata.get("RotationEnabled"):
            raise RotationError(f"secret {secret_id} is not enabled for rotation")
        stages = metadata.get("VersionIdsToStages", {})
        if token not in stages:
            raise RotationError(f"version {token} of {secret_id} has no stage for rotation")
        if CURRENT in stages[token]:
            log.info("%s: version %s is already AWSCURRENT", step, token)
            return
        if PENDING not in stages[token]:
            raise RotationError(f"version {token} of {secret_id} is not AWSPENDING")
        {
            "createSecret": self.create_secret,
            "setSecret": self.set_secret,
            "testSecret": self.test_secret,
            "finishSecret": self.finish_secret,
        }[step](token)

    # -- the four steps --------------------------------------------------------------------------------
    def create_secret(self, token: str) -> None:
        self.secrets.get_secret_value(SecretId=self.secret_arn, VersionStage=CURRENT)  # the current one exists
        try:
            self.secrets.get_secret_value(SecretId=self.secret_arn, VersionId=token, VersionStage=PENDING)
            log.info("createSecret: the pending version %s exists", token)
            return
        except self.secrets.exceptions.ResourceNotFoundException:
            pass
        new = self.secrets.get_random_password(
            PasswordLength=TOKEN_LENGTH, ExcludePunctuation=True, RequireEachIncludedType=True
        )["RandomPassword"]
        self.secrets.put_secret_value(
            SecretId=self.secret_arn, ClientRequestToken=token, SecretString=new, VersionStages=[PENDING]
        )
        log.info("createSecret: put a new token as version %s", token)

    def set_secret(self, token: str) -> None:
        created = self._created(token)
        group = self._wait("setSecret", lambda g: g.get("Status") == "available" or _token_change_pending(g))
        if _token_change_pending(group) or _token_newer_than(group, created):
            log.info(
                "setSecret: %s already carries (or is applying) a token newer than %s", self.replication_group_id, token
            )
            return
        pending = self.secrets.get_secret_value(SecretId=self.secret_arn, VersionId=token, VersionStage=PENDING)
        self.elasticache.modify_replication_group(
            ReplicationGroupId=self.replication_group_id,
            AuthToken=pending["SecretString"],
            AuthTokenUpdateStrategy="ROTATE",
            ApplyImmediately=True,
        )
        log.info("setSecret: %s accepts version %s next to the current token", self.replication_group_id, token)

    def test_secret(self, token: str) -> None:
        created = self._created(token)

        def applied(group: Mapping[str, Any]) -> bool:
            return (
                group.get("Status") == "available"
                and not _token_change_pending(group)
                and _token_newer_than(group, created)
            )

        self._wait("testSecret", applied)
        log.info("testSecret: %s applied version %s", self.replication_group_id, token)

    def finish_secret(self, token: str) -> None:
        stages = self.secrets.describe_secret(SecretId=self.secret_arn).get("VersionIdsToStages", {})
        current = next((v for v, labels in stages.items() if CURRENT in labels), None)
        if current == token:
            return
        self.secrets.update_secret_version_stage(
            SecretId=self.secret_arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=current
        )
        log.info("finishSecret: version %s is AWSCURRENT (was %s)", token, current)

    # -- helpers ---------------------------------------------------------------------------------------
    def _created(self, token: str) -> datetime:
        """When Secrets Manager created the pending version."""
        request: dict[str, str] = {"SecretId": self.secret_arn}
        while True:  # botocore has no paginator for ListSecretVersionIds: follow NextToken
            page = self.secrets.list_secret_version_ids(**request)
            for version in page.get("Versions", []):
                if version["VersionId"] == token:
                    created: datetime = version["CreatedDate"]
                    return created
            if not page.get("NextToken"):
                raise RotationError(f"version {token} of {self.secret_arn} is not listed")
            request["NextToken"] = page["NextToken"]

    def _group(self) -> Mapping[str, Any]:
        groups = self.elasticache.describe_replication_groups(ReplicationGroupId=self.replication_group_id)
        (group,) = groups["ReplicationGroups"]
        result: Mapping[str, Any] = group
        return result

    def _wait(self, step: str, done: Callable[[Mapping[str, Any]], bool]) -> Mapping[str, Any]:
        while True:
            group = self._group()
            if done(group):
                return group
            if self.remaining_ms() < MARGIN_MS + POLL_SECONDS * 1000:
                raise RotationError(
                    f"{step}: {self.replication_group_id} is still {group.get('Status')!r}; Secrets Manager retries"
                )
            self.sleep(POLL_SECONDS)


def _token_change_pending(group: Mapping[str, Any]) -> bool:
    return bool(group.get("PendingModifiedValues", {}).get("AuthTokenStatus"))


def _token_newer_than(group: Mapping[str, Any], created: datetime) -> bool:
    modified = group.get("AuthTokenLastModifiedDate")
    return isinstance(modified, datetime) and modified >= created


def lambda_handler(event: Mapping[str, Any], context: Any) -> None:
    """The function's entry point (handler ``cache_auth_token_rotation.lambda_handler``)."""
    session = botocore.session.get_session()
    Rotation(
        secrets=session.create_client("secretsmanager"),
        elasticache=session.create_client("elasticache"),
        secret_arn=os.environ["SECRET_ARN"],
        replication_group_id=os.environ["REPLICATION_GROUP_ID"],
        remaining_ms=context.get_remaining_time_in_millis,
    ).run(event)
