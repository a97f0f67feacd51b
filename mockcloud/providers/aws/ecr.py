"""ECR (``aws:ecr/...``): repositories, their policies, registry-wide settings, and the registry login
token the image build uses."""

from __future__ import annotations

import base64
from typing import Any

from mockcloud.cloud import Cloud, physical_name
from mockcloud.registry import Outputs, invoke, outputs


def registry_host(cloud: Cloud) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com``: the private registry of the pretend account."""
    return f"{cloud.account_id}.dkr.ecr.{cloud.region}.amazonaws.com"


@outputs("aws:ecr/repository:Repository")
def _repository(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    repo = physical_name(name, inputs, max_length=256).lower()
    return repo, {
        "name": repo,
        "arn": cloud.arn("ecr", f"repository/{repo}"),
        "registryId": cloud.account_id,
        "repositoryUrl": f"{registry_host(cloud)}/{repo}",
        "imageTagMutability": inputs.get("imageTagMutability") or "MUTABLE",
        "encryptionConfigurations": inputs.get("encryptionConfigurations") or [{"encryptionType": "AES256"}],
    }


@outputs("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy")
def _repository_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("repository")), {"registryId": cloud.account_id}


@outputs(
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    "aws:ecr/registryPolicy:RegistryPolicy",
)
def _registry_setting(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    # One per registry: the ID is the registry (account) ID, as in the AWS provider.
    return cloud.account_id, {"registryId": cloud.account_id}


@invoke("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _ecr_token(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    password = "mock-ecr-password"  # noqa: S105 (a mock answer, never a real credential)
    return {
        "id": cloud.region,
        "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
        "userName": "AWS",
        "password": password,
        "proxyEndpoint": f"https://{registry_host(cloud)}",
        "expiresAt": "2099-01-01T00:00:00Z",
        "registryId": args.get("registryId") or cloud.account_id,
    }


@outputs("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
def _creation_template(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("prefix")), {"registryId": cloud.account_id}
