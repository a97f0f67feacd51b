"""The policy pack the Pulumi CLI runs: `pulumi preview --policy-pack policies/guardrails
--policy-pack-config policies/guardrails/<stack>.json`. Only builds the pack: constructing it starts
the gRPC server and blocks, so the policies live in the importable `guardrails` package."""

from guardrails import PACK_NAME, all_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=all_policies(),
    description="Image scanning, health checks and AWS guardrails for the container platform.",
)
