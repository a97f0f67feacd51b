"""IAM tokens signed offline with botocore (fixed credentials, frozen time), checked against SigV4 by hand,
and the token cache that renews them before they expire."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from urllib.parse import parse_qsl, quote

import botocore.auth
import botocore.session
import pytest
from botocore.stub import Stubber
from catalog.aws_auth import AwsAuth, AwsAuthError, RenewingValue

REGION = "eu-central-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FROZEN = dt.datetime(2026, 12, 2, 1, 30, 0)  # botocore signs with naive UTC datetimes


def static_session() -> botocore.session.Session:
    """A botocore session with fixed credentials and no configuration files or instance metadata."""
    session = botocore.session.Session()
    session.set_credentials(ACCESS_KEY, SECRET_KEY)
    return session


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FROZEN)
    return FROZEN


def _sign_by_hand(host: str, query: list[tuple[str, str]], service: str) -> str:
    """SigV4 of a presigned GET https://<host>/?<query>, computed from the spec, not by botocore."""
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))
    canonical = "\n".join(["GET", "/", canonical_query, f"host:{host}", "", "host", hashlib.sha256(b"").hexdigest()])
    day, stamp = FROZEN.strftime("%Y%m%d"), FROZEN.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{day}/{REGION}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _parse(token: str) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    assert "://" not in token, "IAM tokens carry no scheme"
    host, _, rest = token.partition("/")
    assert rest.startswith("?")
    pairs = parse_qsl(rest[1:], keep_blank_values=True, strict_parsing=True)
    return host, dict(pairs), pairs


def _check_sigv4(host: str, params: dict[str, str], pairs: list[tuple[str, str]], service: str) -> None:
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Credential"] == f"{ACCESS_KEY}/20261202/{REGION}/{service}/aws4_request"
    assert params["X-Amz-Date"] == "20261202T013000Z"
    assert params["X-Amz-Expires"] == "900"
    assert params["X-Amz-SignedHeaders"] == "host"
    unsigned = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    assert params["X-Amz-Signature"] == _sign_by_hand(host, unsigned, service)


def test_rds_token_has_the_shape_and_signature_rds_expects(frozen: dt.datetime) -> None:
    token = AwsAuth(REGION, static_session()).rds_token("db.example.internal", 5432, "catalog_app")
    host, params, pairs = _parse(token)
    assert host == "db.example.internal:5432"
    assert token.startswith("db.example.internal:5432/?Action=connect&DBUser=catalog_app&")
    assert params["Action"] == "connect"
    assert params["DBUser"] == "catalog_app"
    _check_sigv4(host, params, pairs, "rds-db")


def test_rds_token_is_what_botocores_generate_db_auth_token_makes(frozen: dt.datetime) -> None:
    session = static_session()
    rds = session.create_client("rds", region_name=REGION)
    expected = rds.generate_db_auth_token("db.example.internal", 5432, "catalog_app", Region=REGION)
    assert AwsAuth(REGION, session).rds_token("db.example.internal", 5432, "catalog_app") == expected


def test_elasticache_token_signs_the_cache_name_as_host(frozen: dt.datetime) -> None:
    token = AwsAuth(REGION, static_session()).elasticache_token("catalog-prod-cache", "catalog-prod-cache-app")
    host, params, pairs = _parse(token)
    assert host == "catalog-prod-cache"
    assert params["Action"] == "connect"
    assert params["User"] == "catalog-prod-cache-app"
    _check_sigv4(host, params, pairs, "elasticache")


def test_signing_without_credentials_names_the_missing_credentials() -> None:
    session = botocore.session.Session()
    session.get_credentials = lambda: None  # type: ignore[method-assign]  # no provider finds any
    with pytest.raises(AwsAuthError, match="no AWS credentials"):
        AwsAuth(REGION, session).rds_token("db", 5432, "app")


def test_secret_string_reads_the_current_value_with_get_secret_value() -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:catalog-auth-AbCdEf"
    client = static_session().create_client("secretsmanager", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_response("get_secret_value", {"ARN": arn, "SecretString": "token-one"}, {"SecretId": arn})
        stub.add_client_error("get_secret_value", "AccessDeniedException", expected_params={"SecretId": arn})
        auth = AwsAuth(REGION, static_session(), secrets_client=client)
        assert auth.secret_string(arn) == "token-one"
        with pytest.raises(AwsAuthError, match="AccessDeniedException"):
            auth.secret_string(arn)


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_value_is_reused_until_shortly_before_it_expires_then_renewed_once() -> None:
    clock = FakeClock()
    fetched: list[int] = []

    def fetch() -> str:
        fetched.append(1)
        return f"token-{len(fetched)}"

    value = RenewingValue(fetch, lifetime=900, renew_before=120, clock=clock)
    assert await value.get() == "token-1"
    clock.now += 779
    assert not value.due()
    assert await value.get() == "token-1"
    clock.now += 1  # 780 s = 900 - 120: renewed for the next connection
    assert value.due()
    results = await asyncio.gather(*(value.get() for _ in range(20)))
    assert set(results) == {"token-2"}
    assert len(fetched) == 2, "concurrent callers share one renewal"
    assert value.generation == 2


async def test_rejected_fetches_again_once_for_all_callers_that_saw_the_old_value() -> None:
    clock = FakeClock()
    current = ["old"]
    calls: list[str] = []

    def fetch() -> str:
        calls.append(current[0])
        return current[0]

    value = RenewingValue(fetch, lifetime=300, clock=clock, min_refetch_seconds=1.0)
    assert await value.get() == "old"
    generation = value.generation
    current[0] = "new"  # rotated
    clock.now += 5
    answers = await asyncio.gather(*(value.rejected(generation) for _ in range(10)))
    assert all(answers)
    assert calls == ["old", "new"], "ten refused connections, one re-read"
    assert await value.get() == "new"
    # The value just read is refused too (a wrong secret): no re-read within min_refetch_seconds.
    assert await value.rejected(value.generation) is False
    assert calls == ["old", "new"]
