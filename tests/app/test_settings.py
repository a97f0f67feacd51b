"""Settings: defaults, and startup refusals that name the variable, the value and what is allowed."""

from __future__ import annotations

import pytest
from catalog.app import create_app
from catalog.server import server_config
from catalog.settings import ALB_IDLE_TIMEOUT_SECONDS, SettingsError, load_settings

PROD_OK = {"APP_ENV": "prod", "DATABASE_PASSWORD": "s3cr3t-from-secrets-manager", "DATABASE_SSL": "true"}


def test_defaults_match_the_infrastructure_contract() -> None:
    settings = load_settings({})
    assert settings.port == 8080
    assert settings.service_role == "all"
    assert settings.cache_strategy == "cache-aside"
    assert settings.keepalive_timeout_seconds == 75
    assert settings.run_migrations is False
    assert settings.cache_backend == "redis"
    assert (settings.memcached_port, settings.memcached_tls, settings.memcached_autodiscovery) == (11211, False, False)


def test_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_STRATEGY", "write-through")
    monkeypatch.setenv("REDIS_CLUSTER_MODE", "true")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert settings.cache_strategy == "write-through"
    assert settings.redis_cluster_mode is True
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"CACHE_STRATEGY": "lru"},
            "CACHE_STRATEGY='lru' is not allowed (allowed values: 'cache-aside', 'read-through' or 'write-through')",
        ),
        ({"SERVICE_ROLE": "worker"}, "SERVICE_ROLE='worker' is not allowed (allowed values: 'all', 'api' or 'ops')"),
        ({"APP_ENV": "production"}, "APP_ENV='production' is not allowed (allowed values: 'dev', 'staging' or 'prod')"),
        ({"PORT": "http"}, "PORT='http' is invalid: Input should be a valid integer"),
        ({"PORT": "70000"}, "PORT='70000' is invalid: Input should be less than or equal to 65535"),
        ({"REDIS_TLS": "maybe"}, "REDIS_TLS='maybe' is invalid: Input should be a valid boolean"),
        ({"CACHE_TTL_JITTER": "1.5"}, "CACHE_TTL_JITTER='1.5' is invalid: Input should be less than 1"),
        (
            {"KEEPALIVE_TIMEOUT_SECONDS": str(ALB_IDLE_TIMEOUT_SECONDS)},
            "KEEPALIVE_TIMEOUT_SECONDS='60' is invalid: Input should be greater than 60",
        ),
        ({"CACHE_KEY_PREFIX": "a{b}"}, "CACHE_KEY_PREFIX='a{b}' is invalid"),
        ({"REDIS_CLUSTER_MODE": "true", "REDIS_DB": "2"}, "REDIS_DB=2 is refused with REDIS_CLUSTER_MODE=true"),
        (
            {"CACHE_BACKEND": "valkey"},
            "CACHE_BACKEND='valkey' is not allowed (allowed values: 'redis' or 'memcached')",
        ),
        (
            {"CACHE_BACKEND": "memcached", "CACHE_STRATEGY": "write-through"},
            "CACHE_STRATEGY='write-through' is refused with CACHE_BACKEND='memcached' (allowed: 'cache-aside', "
            "'read-through'",
        ),
        (
            {"CACHE_BACKEND": "memcached", "REDIS_AUTH_TOKEN": "a-real-token-of-32-characters-xx"},
            "REDIS_AUTH_TOKEN is refused with CACHE_BACKEND='memcached'",
        ),
        ({"MEMCACHED_TLS": "sometimes"}, "MEMCACHED_TLS='sometimes' is invalid: Input should be a valid boolean"),
    ],
)
def test_bad_values_fail_naming_variable_value_and_allowed(env: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    assert expected in str(error.value)


@pytest.mark.parametrize("env_name", ["staging", "prod"])
@pytest.mark.parametrize("password", ["", "changeme", "postgres", "<set-me>", "${DB_PASSWORD}"])
def test_placeholder_database_password_refused_outside_dev(env_name: str, password: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_PASSWORD is empty or a placeholder") as error:
        load_settings({"APP_ENV": env_name, "DATABASE_PASSWORD": password, "DATABASE_SSL": "true"})
    if password:
        assert password not in str(error.value)  # secrets are never echoed


def test_placeholders_are_fine_in_dev_and_real_secrets_in_prod() -> None:
    assert load_settings({"APP_ENV": "dev", "DATABASE_PASSWORD": ""}).app_env == "dev"
    settings = load_settings(PROD_OK)
    assert settings.database_password.get_secret_value() == "s3cr3t-from-secrets-manager"
    assert "s3cr3t" not in repr(settings)


def test_prod_requires_tls_to_the_database() -> None:
    with pytest.raises(SettingsError, match="DATABASE_SSL='false' is refused with APP_ENV='prod'"):
        load_settings({**PROD_OK, "DATABASE_SSL": "false"})


def test_redis_auth_token_rules_outside_dev() -> None:
    with pytest.raises(SettingsError, match="REDIS_AUTH_TOKEN requires REDIS_TLS=true"):
        load_settings({**PROD_OK, "REDIS_AUTH_TOKEN": "a-real-token-of-32-characters-xx"})
    with pytest.raises(SettingsError, match="16-128 characters"):
        load_settings({**PROD_OK, "REDIS_TLS": "true", "REDIS_AUTH_TOKEN": "short"})
    with pytest.raises(SettingsError, match="REDIS_AUTH_TOKEN is a placeholder"):
        load_settings({**PROD_OK, "REDIS_TLS": "true", "REDIS_AUTH_TOKEN": "changeme"})
    ok = load_settings({**PROD_OK, "REDIS_TLS": "true", "REDIS_AUTH_TOKEN": "a-real-token-of-32-characters-xx"})
    assert ok.redis_auth_token is not None


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"PORT": "x", "CACHE_STRATEGY": "y"})
    assert "PORT='x'" in str(error.value)
    assert "CACHE_STRATEGY='y'" in str(error.value)


def test_server_keeps_connections_longer_than_the_alb_and_stops_within_ecs_timeout() -> None:
    settings = load_settings({"PORT": "9090"})
    config = server_config(settings, create_app(settings))
    assert config.port == 9090
    assert config.host == "127.0.0.1"  # outside a container: not on the LAN (the image sets HOST=0.0.0.0)
    assert server_config(load_settings({"HOST": "0.0.0.0"}), create_app(settings)).host == "0.0.0.0"  # noqa: S104
    assert config.timeout_keep_alive == 75 > ALB_IDLE_TIMEOUT_SECONDS
    assert config.timeout_graceful_shutdown is not None
    assert config.timeout_graceful_shutdown < 30  # ECS stopTimeout on Fargate
