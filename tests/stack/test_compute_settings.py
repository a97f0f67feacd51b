"""ALB and Fargate settings: bad values fail before anything is registered, naming key, value and allowed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import assert_config_rejected

BAD_VALUES = [
    (
        {"apiMemory": 4096},
        "container-platform:apiMemory",
        "a Fargate memory size for apiCpu=256: one of 512, 1024, 2048",
    ),
    (
        {"opsCpu": 1024, "opsMemory": 1024},
        "container-platform:opsMemory",
        "one of 2048, 3072, 4096, 5120, 6144, 7168, 8192",
    ),
    ({"apiCpu": 300}, "container-platform:apiCpu", "one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ({"apiMinTasks": 3, "apiMaxTasks": 2}, "container-platform:apiMaxTasks", "at least apiMinTasks (3)"),
    ({"opsMinTasks": 0}, "container-platform:opsMinTasks", "from 1 to 5000"),
    ({"albSslPolicy": "ELBSecurityPolicy-2016-08"}, "container-platform:albSslPolicy", "ELBSecurityPolicy-TLS13-1-2"),
    ({"albIngressCidrs": ["0.0.0.0/0", "office"]}, "container-platform:albIngressCidrs", "bad: office"),
    ({"albIngressCidrs": []}, "container-platform:albIngressCidrs", "at least one CIDR"),
    ({"opsAllowedCidrs": ["10.0.0.1/8"]}, "container-platform:opsAllowedCidrs", "a CIDR"),
    ({"containerInsights": "on"}, "container-platform:containerInsights", "one of enhanced, enabled, disabled"),
    ({"fargateWeight": 0, "fargateSpotWeight": 0}, "container-platform:fargateWeight", "above 0"),
    ({"fargateSpotWeight": 1001}, "container-platform:fargateSpotWeight", "from 0 to 1000"),
    ({"scalingCpuTargetPercent": 100}, "container-platform:scalingCpuTargetPercent", "from 10 to 95"),
    ({"logLevel": "verbose"}, "container-platform:logLevel", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
]


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_VALUES)
def test_bad_compute_config_is_rejected_before_anything_is_registered(
    overrides: dict[str, Any], key: str, allowed: str
) -> None:
    assert_config_rejected("dev", overrides, key, allowed)
