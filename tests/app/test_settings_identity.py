"""Settings of the logins: DATABASE_AUTH and REDIS_AUTH, with the variables each mode needs or refuses."""

from __future__ import annotations

import pytest
from catalog.credentials import credentials_from_settings
from catalog.redis_auth import RenewingCredentialProvider
from catalog.settings import SettingsError, load_settings
from redis.credentials import UsernamePasswordCredentialProvider

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cache-auth-AbCdEf"
# What the program gives the API service (it runs the migrations) in prod with IAM everywhere.
PROD_IAM = {
    "APP_ENV": "prod",
    "AWS_REGION": "eu-west-1",
    "DATABASE_AUTH": "iam",
    "DATABASE_USER": "catalog_admin",
    "DATABASE_APP_USER": "catalog_app",
    "DATABASE_PASSWORD": "s3cr3t-from-secrets-manager",
    "DATABASE_SSL": "true",
    "RUN_MIGRATIONS": "true",
    "REDIS_AUTH": "iam",
    "REDIS_TLS": "true",
    "REDIS_USER": "container-platform-prod-app",
    "REDIS_CACHE_NAME": "container-platform-prod",
}


def test_the_programs_prod_contract_is_accepted_and_logs_in_as_the_app_user() -> None:
    settings = load_settings(PROD_IAM)
    assert settings.database_login_user == "catalog_app"
    credentials = credentials_from_settings(settings)
    assert credentials.database_login().user == "catalog_app"
    assert credentials.migration_login().user == "catalog_admin"
    provider = credentials.redis_credentials()
    assert isinstance(provider, RenewingCredentialProvider)
    assert (provider.user, provider.reauthenticate) == ("container-platform-prod-app", True)


def test_the_ops_service_with_iam_needs_no_password() -> None:
    # ops does not run the migrations, and the program gives it no DATABASE_PASSWORD.
    env = {k: v for k, v in PROD_IAM.items() if k != "DATABASE_PASSWORD"} | {"RUN_MIGRATIONS": "false"}
    assert load_settings(env).database_password.get_secret_value() == ""
    with pytest.raises(SettingsError, match="DATABASE_PASSWORD is empty or a placeholder"):
        load_settings(env | {"RUN_MIGRATIONS": "true"})  # the migrations log in with it


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"DATABASE_APP_USER": ""}, "DATABASE_AUTH='iam' requires DATABASE_APP_USER"),
        ({"DATABASE_APP_USER": "catalog_admin"}, "DATABASE_APP_USER='catalog_admin' must differ from DATABASE_USER"),
        ({"DATABASE_APP_USER": "Catalog-App"}, "DATABASE_APP_USER='Catalog-App' is invalid"),
        ({"APP_ENV": "staging", "DATABASE_SSL": "false"}, "DATABASE_AUTH='iam' requires DATABASE_SSL=true"),
        ({"AWS_REGION": ""}, "DATABASE_AUTH='iam' requires AWS_REGION"),
        ({"DATABASE_AUTH": "token"}, "DATABASE_AUTH='token' is not allowed (allowed values: 'password' or 'iam')"),
        (
            {"REDIS_AUTH": "acl"},
            "REDIS_AUTH='acl' is not allowed (allowed values: 'none', 'password', 'token' or 'iam')",
        ),
        ({"REDIS_CACHE_NAME": ""}, "REDIS_AUTH='iam' requires REDIS_CACHE_NAME"),
        ({"REDIS_USER": ""}, "REDIS_AUTH='iam' requires REDIS_USER"),
        ({"REDIS_TLS": "false"}, "REDIS_AUTH='iam' requires REDIS_TLS=true"),
        ({"REDIS_AUTH": "token"}, "REDIS_AUTH='token' requires REDIS_AUTH_SECRET_ARN"),
        ({"REDIS_AUTH_TOKEN": "a-real-token-of-32-characters-xx"}, "REDIS_AUTH_TOKEN is refused with REDIS_AUTH='iam'"),
        ({"REDIS_USERNAME": "app"}, "REDIS_USERNAME (now REDIS_USER)"),
        ({"CACHE_BACKEND": "memcached"}, "REDIS_AUTH='iam' is refused with CACHE_BACKEND='memcached'"),
    ],
)
def test_refusals_name_the_variable_and_what_is_allowed(change: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(PROD_IAM | change)
    assert expected in str(info.value)


def test_rotated_token_mode_reads_the_secret_and_does_not_reauthenticate() -> None:
    env = {k: v for k, v in PROD_IAM.items() if k not in ("REDIS_USER", "REDIS_CACHE_NAME")}
    settings = load_settings(env | {"REDIS_AUTH": "token", "REDIS_AUTH_SECRET_ARN": ARN})
    provider = credentials_from_settings(settings).redis_credentials()
    assert isinstance(provider, RenewingCredentialProvider)
    assert (provider.user, provider.reauthenticate) == (None, False)
    with pytest.raises(SettingsError, match="REDIS_AUTH_SECRET_ARN='secret-name' is not an ARN"):
        load_settings(env | {"REDIS_AUTH": "token", "REDIS_AUTH_SECRET_ARN": "secret-name"})


def test_local_defaults_are_the_password_paths() -> None:
    settings = load_settings({})
    assert (settings.database_auth, settings.redis_auth_mode) == ("password", "none")
    assert credentials_from_settings(settings).redis_credentials() is None
    with_token = load_settings({"REDIS_AUTH_TOKEN": "local-token", "REDIS_USER": "app"})
    assert with_token.redis_auth_mode == "password"
    provider = credentials_from_settings(with_token).redis_credentials()
    assert isinstance(provider, UsernamePasswordCredentialProvider)
    assert provider.get_credentials() == ("app", "local-token")
    with pytest.raises(SettingsError, match="REDIS_AUTH_TOKEN is refused with REDIS_AUTH='none'"):
        load_settings({"REDIS_AUTH": "none", "REDIS_AUTH_TOKEN": "local-token"})
