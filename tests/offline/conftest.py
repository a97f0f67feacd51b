"""The policy pack fixtures of tests/policies (one pack process per session), for the offline tools' tests."""

from __future__ import annotations

from tests.policies.conftest import analyze, policy_pack

__all__ = ["analyze", "policy_pack"]
