"""The contract between the Fargate service component and the policy pack has one definition.

The component (components/fargate_service.py) and the pack (policies/guardrails) both import
``platform_contracts.fargate_service``: the type token the pack matches, the name and shape of the
declared container spec, and the rule for secret-looking environment names. These tests pin that:
the same objects on both sides, and the component refusing exactly the names the pack would flag.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from platform_contracts import fargate_service as contract

from components import fargate_service as component
from components.errors import InputError

PACK_DIR = Path(__file__).resolve().parents[2] / "policies" / "guardrails"

# Names a team would plausibly pass, both kinds: values that are secrets, and references to them.
NAMES = (
    "DATABASE_PASSWORD", "REDIS_AUTH_TOKEN", "API_KEY", "APIKEY", "STRIPE_SECRET", "PRIVATE_KEY", "SIGNING_PRIVATEKEY",
    "AWS_ACCESS_KEY", "DB_PASSWD", "GPG_PASSPHRASE", "OAUTH_CREDENTIALS", "SESSION_AUTH_KEY",
    "DATABASE_SECRET_ARN", "TOKEN_FILE", "SECRET_NAME", "KMS_KEY_ID", "CERT_PATH", "JWT_SECRET_ID",
    "DATABASE_HOST", "PORT", "LOG_LEVEL", "TOKENIZER_MODEL_PATH", "APP_ENV",
)  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> Iterator[ModuleType]:
    """The pack's ``guardrails`` package, imported the way the CLI's pack process sees it."""
    import sys

    sys.path.insert(0, str(PACK_DIR))
    try:
        yield importlib.import_module("guardrails")
    finally:
        sys.path.remove(str(PACK_DIR))


def test_type_token_and_spec_name_are_the_contracts_on_both_sides(pack: ModuleType) -> None:
    types = importlib.import_module("guardrails.resource_types")
    assert component.FARGATE_SERVICE_TYPE is contract.TYPE_TOKEN
    assert types.FARGATE_SERVICE is contract.TYPE_TOKEN
    assert component.CONTAINER_SPEC is contract.CONTAINER_SPEC
    assert types.CONTAINER_SPEC is contract.CONTAINER_SPEC
    assert component.COMPUTED is contract.COMPUTED
    assert pack is not None


@pytest.mark.parametrize("name", NAMES)
def test_the_component_refuses_exactly_the_names_the_pack_flags(pack: ModuleType, name: str) -> None:
    ecs = importlib.import_module("guardrails.ecs")
    flagged_by_pack = ecs.secret_looking(name, "plain-value") == "its name"
    refused = _refused_by_component(name)
    assert refused == flagged_by_pack == contract.is_secret_name(name), name


def _refused_by_component(name: str) -> bool:
    from tests.components.test_fargate_service import _args

    try:
        _args(environment={name: "plain-value"}, secrets={})
    except InputError as error:
        return error.setting == "environment"
    return False


def test_spec_only_keys_are_what_the_spec_has_instead_of_image() -> None:
    from tests.components.test_fargate_service import _args

    spec: dict[str, Any] = component.container_spec(_args())
    assert set(spec) >= contract.SPEC_ONLY_KEYS
    assert "image" not in spec
