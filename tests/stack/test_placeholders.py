"""Example-only values in a stack file: listed by the offline plan, refused by a real engine.

The real-engine side runs the program as the Pulumi CLI's language host does (tests/stack/real_engine.py:
a resource monitor and an engine over gRPC), in a subprocess, so nothing of the mock runtime is around.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from mockcloud.monitor import STACK_TYPE
from mockcloud.runner import PROJECT_DIR
from offline.plan_output import placeholders
from stack.placeholders import find_placeholders, running_under_mocks, why_example
from tests.support import ComponentRunner, cached_run

PROD_PLACEHOLDERS = [
    ("nlbIngressCidrs", "198.51.100.0/24"),
    ("nlbIngressCidrs", "203.0.113.0/24"),
    ("domainName", "catalog.example.com"),
    ("hostedZoneName", "example.com"),
]
OWN_VALUES = [
    "-c", "hostedZoneName=catalog-platform.net",
    "-c", "domainName=shop.catalog-platform.net",
    "-c", 'nlbIngressCidrs=["52.95.110.0/24"]',
]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        "example.com", "catalog.example.com", "EXAMPLE.ORG.", "*.shop.example.net", "shop.example",
        "api.test", "host.invalid", "db.localhost",
        "192.0.2.0/24", "198.51.100.7", "203.0.113.0/25", "2001:db8::/48", "2001:db8::1", "3fff:1::/32",
        "arn:aws:sns:eu-west-1:123456789012:alerts",
    ],
)  # fmt: skip
def test_documentation_values_are_recognised(value: str) -> None:
    assert why_example(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "catalog.example-shop.com", "notexample.com", "example.com.au", "10.0.0.0/16", "0.0.0.0/0",
        "198.51.0.0/16",  # contains a documentation range but is not one
        "2001:db9::/32", "52.95.110.0/24", "arn:aws:sns:eu-west-1:210987654321:alerts", "cache.t4g.micro",
        "linux/amd64", "8.1", "ops@example.com", "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", "",
    ],
)  # fmt: skip
def test_real_values_are_not(value: str) -> None:
    assert why_example(value) is None


def test_lists_are_judged_item_by_item() -> None:
    found = find_placeholders([("nlbIngressCidrs", ("52.95.110.0/24", "203.0.113.0/24")), ("azCount", 3)])
    assert [(p.key, p.value) for p in found] == [("nlbIngressCidrs", "203.0.113.0/24")]
    assert "RFC 5737" in found[0].why


def test_the_offline_plan_lists_prods_placeholders_and_runs_with_them() -> None:
    run = cached_run("prod")
    assert [(p.key, p.value) for p in placeholders(run)] == PROD_PLACEHOLDERS
    assert run.of_type("aws:acm/certificateValidation:CertificateValidation"), "the plan is complete"
    assert placeholders(cached_run("dev")) == []


def test_the_mock_runtime_is_recognised(run_component: ComponentRunner) -> None:
    seen: list[bool] = []
    run_component(lambda: seen.append(running_under_mocks()))
    assert seen == [True]


def _real(stack: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.stack.real_engine", stack, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == result["exit_code"], done.stderr[-2000:]
    return result


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_a_real_engine_refuses_the_committed_prod_placeholders_naming_key_value_and_why(preview: bool) -> None:
    result = _real("prod", *(["--preview"] if preview else []))
    assert result["exit_code"] == 1
    (error,) = result["errors"]
    message = error.strip().splitlines()[-1]
    assert message.startswith(
        "stack.settings.ConfigError: config 'container-platform:nlbIngressCidrs' = '198.51.100.0/24' is not valid"
    )
    assert "an address range reserved for documentation (RFC 5737)" in message
    assert "replace the stack file's example values before the first `pulumi up`" in message
    assert "(examples also in: domainName, hostedZoneName)" in message
    assert result["types"] == [STACK_TYPE], "refused before anything but the stack is registered"


def test_a_real_engine_runs_prod_once_its_placeholders_are_replaced() -> None:
    result = _real("prod", *OWN_VALUES)
    assert (result["exit_code"], result["errors"]) == (0, [])
    for kind in (
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:wafv2/webAclAssociation:WebAclAssociation",
    ):
        assert kind in result["types"]


def test_a_real_preview_refuses_a_documentation_range_slipped_into_dev() -> None:
    result = _real("dev", "--preview", "-c", 'albIngressCidrs=["0.0.0.0/0", "2001:db8:1::/48"]')
    assert result["exit_code"] == 1
    assert "'container-platform:albIngressCidrs' = '2001:db8:1::/48' is not valid" in result["errors"][0]
    assert "RFC 3849 / RFC 9637" in result["errors"][0]
