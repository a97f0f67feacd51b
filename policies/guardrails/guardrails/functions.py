"""Lambda functions: no credentials in plain environment variables."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .ecs import secret_looking
from .props import as_mapping
from .rules import Report, resource_policy


def _no_plaintext_secrets(args: ResourceValidationArgs, report: Report) -> None:
    variables = as_mapping(as_mapping(args.props.get("environment")).get("variables"))
    for name in list(variables.keys()):
        # The same rule as the containers' (names such as DB_PASSWORD, values such as an access key ID).
        why = secret_looking(str(name), variables.get(name))
        if why:
            # Never echo the value: the report ends up in CI logs.
            report(
                f"environment.variables.{name} looks like a secret ({why}): anyone who can read the function's "
                "configuration (lambda:GetFunctionConfiguration) reads it; pass its Secrets Manager ARN and fetch "
                "it at run time."
            )


def policies() -> Sequence[ResourceValidationPolicy]:
    return [
        resource_policy(
            name="lambda-no-plaintext-secrets",
            description="Lambda functions hold no secrets in plain environment variables.",
            types=[t.LAMBDA_FUNCTION],
            check=_no_plaintext_secrets,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.HIGH,
            remediation="Put the secret in Secrets Manager and pass environment.variables.<NAME>_SECRET_ARN; grant "
            "the function's role secretsmanager:GetSecretValue on that ARN.",
        ),
    ]
