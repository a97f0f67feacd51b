"""The static-IP NLB and the inspection layer through the pack with prod's config (all mandatory)."""

from __future__ import annotations

from offline.policy.pack import PolicyPackProcess
from tests.policies.support import findings
from tests.support import cached_run

OURS = ("prod-nlb", "prod-gwlb", "prod-inspection", "prod-gwlbe", "prod-edge", "prod-public-rt")
INSPECTION = {"gwlbEnabled": True, "gwlbApplianceAmiId": "ami-0123456789abcdef0"}


def test_prod_with_nlb_and_inspection_passes_and_nothing_of_ours_is_unknown_at_preview(
    policy_pack: PolicyPackProcess,
) -> None:
    for preview in (False, True):
        run = cached_run("prod", preview=preview, **INSPECTION)
        report = policy_pack.analyze(run)
        assert findings(report.mandatory) == set()
        weakened = [
            f"{v.policy} on {v.resource}"
            for v in report.unknown_notes()
            if report.levels[v.policy] == "mandatory" and any(name in (v.resource or "") for name in OURS)
        ]
        assert weakened == [], "a mandatory check on the NLB/GWLB could not run at preview"


def test_an_nlb_open_to_the_internet_is_refused(policy_pack: PolicyPackProcess) -> None:
    run = cached_run("prod", nlbIngressCidrs=["0.0.0.0/0"])
    report = policy_pack.analyze(run)
    refused = {(v.policy, v.resource) for v in report.mandatory}
    assert {policy for policy, _ in refused} == {"sg-no-public-ingress"}
    assert all("prod-nlb-in-tcp-" in resource for _, resource in refused)
