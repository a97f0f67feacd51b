"""Short-lived secrets from AWS: IAM auth tokens (RDS, ElastiCache) and the rotated cache AUTH token.

Both IAM tokens are SigV4 presigned URLs without their scheme, signed with the task role's
credentials: RDS `host:port/?Action=connect&DBUser=<user>&X-Amz-...` (service `rds-db`, what botocore's
`generate_db_auth_token` makes) and ElastiCache `<replication group>/?Action=connect&User=<user>&X-Amz-...`
(service `elasticache`). Each is valid for 15 minutes to *open* a connection; an open connection
stays authenticated (ElastiCache ends IAM connections after 12 hours unless they AUTH again).

Signing and Secrets Manager calls block (botocore is synchronous, and refreshing the task role's
credentials is an HTTP call), so `RenewingValue` runs them in a thread and only when the cached
value is due, never on every connection.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.awsrequest import prepare_request_dict
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import ServiceId
from botocore.signers import RequestSigner

Clock = Callable[[], float]

IAM_TOKEN_LIFETIME_SECONDS = 900
"""X-Amz-Expires of both IAM tokens: RDS and ElastiCache accept tokens up to 15 minutes old."""
IAM_TOKEN_RENEW_BEFORE_SECONDS = 120
"""A cached token is replaced this long before it expires, so no connection is opened with one about to lapse."""


class AwsAuthError(RuntimeError):
    """A token could not be signed or a secret could not be read (no credentials, access denied, network)."""


class AwsAuth:
    """Signs IAM auth tokens and reads secrets for one region, with one botocore session.

    `session` is the seam for tests (static credentials, a stubbed Secrets Manager client); the
    default resolves credentials the usual way (in ECS: the task role via the container endpoint).
    """

    def __init__(
        self, region: str, session: botocore.session.Session | None = None, *, secrets_client: Any = None
    ) -> None:
        self.region = region
        self._session = session or botocore.session.get_session()
        self._secrets_client = secrets_client
        self._lock = threading.Lock()

    def _signer(self, signing_name: str) -> RequestSigner:
        credentials = self._session.get_credentials()
        if credentials is None:
            raise AwsAuthError(
                f"no AWS credentials to sign {signing_name} IAM tokens (in ECS the task role provides them)"
            )
        return RequestSigner(
            ServiceId(signing_name),
            self.region,
            signing_name,
            "v4",
            credentials,
            self._session.get_component("event_emitter"),
        )

    def _presign(self, signing_name: str, endpoint: str, params: dict[str, str]) -> str:
        # Signed like botocore's generate_db_auth_token: the parameters go in the query string of a
        # GET to https://<endpoint>/, and the scheme (needed only by the URL parser) is removed.
        request: dict[str, Any] = {"url_path": "/", "query_string": "", "headers": {}, "body": params, "method": "GET"}
        prepare_request_dict(request, f"https://{endpoint}")
        try:
            url: str = self._signer(signing_name).generate_presigned_url(
                request,
                operation_name="connect",
                expires_in=IAM_TOKEN_LIFETIME_SECONDS,
                region_name=self.region,
                signing_name=signing_name,
            )
        except BotoCoreError as exc:
            raise AwsAuthError(f"signing a {signing_name} IAM token failed: {exc}") from exc
        return url.removeprefix("https://")

    def rds_token(self, host: str, port: int, user: str) -> str:
        """An RDS IAM token for `user` at host:port (the password of one new connection)."""
        return self._presign("rds-db", f"{host}:{port}", {"Action": "connect", "DBUser": user})

    def elasticache_token(self, cache_name: str, user: str) -> str:
        """An ElastiCache IAM token for the IAM-enabled user `user` (ID = name) of replication group `cache_name`."""
        return self._presign("elasticache", cache_name, {"Action": "connect", "User": user})

    def secret_string(self, secret_arn: str) -> str:
        """The current (AWSCURRENT) SecretString of `secret_arn`."""
        with self._lock:  # one client, created on first use (loading its model takes a moment)
            if self._secrets_client is None:
                self._secrets_client = self._session.create_client("secretsmanager", region_name=self.region)
            client = self._secrets_client
        try:
            value = client.get_secret_value(SecretId=secret_arn).get("SecretString")
        except (BotoCoreError, ClientError) as exc:
            raise AwsAuthError(f"reading secret {secret_arn} failed: {exc}") from exc
        if not isinstance(value, str) or not value:
            raise AwsAuthError(f"secret {secret_arn} has no SecretString")
        return value


class RenewingValue:
    """A secret from a blocking `fetch`, cached until `renew_before` seconds before `lifetime` ends.

    `generation` counts fetches, so a caller that had a value rejected (a rotated AUTH token, a
    token the server refused) can say which one failed: `rejected(generation)` fetches again unless
    another caller already did, and never more often than once per `min_refetch_seconds`.
    """

    def __init__(
        self,
        fetch: Callable[[], str],
        *,
        lifetime: float,
        renew_before: float = 0.0,
        min_refetch_seconds: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 0 <= renew_before < lifetime:
            raise ValueError(f"renew_before={renew_before} must be in [0, lifetime={lifetime})")
        self._fetch = fetch
        self._keep_for = lifetime - renew_before
        self._min_refetch = min_refetch_seconds
        self._clock = clock
        self._value: str | None = None
        self._fetched_at = 0.0
        self.generation = 0
        """Number of values fetched so far; the current value's generation."""
        self._lock = asyncio.Lock()

    def due(self) -> bool:
        """Whether the next `get` fetches a new value (none yet, or the cached one is near its end)."""
        return self._value is None or self._clock() - self._fetched_at >= self._keep_for

    def _store(self, value: str, fetched_at: float) -> str:
        self._value = value
        self._fetched_at = fetched_at
        self.generation += 1
        return value

    async def _refetch(self) -> str:
        started = self._clock()
        return self._store(await asyncio.to_thread(self._fetch), started)

    async def get(self) -> str:
        """The current value, fetched (in a thread, once for all concurrent callers) when due."""
        if not self.due():
            assert self._value is not None
            return self._value
        async with self._lock:
            if self.due():
                return await self._refetch()
            assert self._value is not None
            return self._value

    def get_blocking(self) -> str:
        """`get` for synchronous callers (redis-py's sync interface); fetches in the calling thread."""
        if self.due():
            return self._store(self._fetch(), self._clock())
        assert self._value is not None
        return self._value

    async def rejected(self, generation: int) -> bool:
        """The value of `generation` was refused: True when a different one is now current."""
        async with self._lock:
            if generation != self.generation:
                return True  # another caller fetched since: try that one
            if self._clock() - self._fetched_at < self._min_refetch:
                return False  # the value was fetched a moment ago and is still refused: do not hammer
            previous = self._value
            await self._refetch()
            return self._value != previous
