"""Contracts between the Pulumi program (components/) and the policy pack (policies/guardrails/).

Both import these definitions, so a component and the policy that checks it can never disagree on a
type token, a property name or a rule. This package has no dependencies: the pack's environment and
the program's both install it (it is a path dependency of the root project).
"""
