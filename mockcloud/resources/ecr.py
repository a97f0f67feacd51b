"""ECR and the Docker image build: repositories, their policies, registry-wide settings, pushed images.

Also the SSM parameter the registry component uses as its cross-stack ownership lock.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pulumi.runtime import rpc

from mockcloud.aws_cloud import Cloud, Outputs, outputs, physical_name


def _unwrap(value: Any) -> Any:
    """A nested secret arrives as the wire wrapper ({<secret sig>: ..., "value": ...})."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value.get("value")
    return value


def _registry_host(cloud: Cloud) -> str:
    return f"{cloud.account_id}.dkr.ecr.{cloud.region}.amazonaws.com"


@outputs("aws:ecr/repository:Repository")
def _repository(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    repo = physical_name(name, inputs, max_length=256).lower()
    return repo, {
        "name": repo,
        "arn": cloud.arn("ecr", f"repository/{repo}"),
        "registryId": cloud.account_id,
        "repositoryUrl": f"{_registry_host(cloud)}/{repo}",
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


@outputs("aws:ssm/parameter:Parameter")
def _ssm_parameter(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    parameter = physical_name(name, inputs, max_length=2048)
    resource = parameter.lstrip("/")
    return parameter, {
        "name": parameter,
        "arn": cloud.arn("ssm", f"parameter/{resource}"),
        "version": 1,
        "tier": inputs.get("tier") or "Standard",
        "dataType": inputs.get("dataType") or "text",
    }


@outputs("docker:index/image:Image")
def _image(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    image_name = str(inputs.get("imageName"))
    repository = image_name.rsplit(":", 1)[0] if ":" in image_name.rsplit("/", 1)[-1] else image_name
    build = inputs.get("build") or {}
    # The manifest digest depends on what was built, not on the tag: the same build pushed under two
    # tags (the image and its build-cache tag) has one digest, as in a real registry.
    digest = hashlib.sha256(json.dumps(build, sort_keys=True, default=str).encode()).hexdigest()
    return image_name, {
        "imageName": image_name,
        "baseImageName": image_name,
        "repoDigest": f"{repository}@sha256:{digest}",
        "registryServer": (_unwrap(inputs.get("registry")) or {}).get("server") or repository.split("/", 1)[0],
        "context": build.get("context", "."),
        "dockerfile": build.get("dockerfile", "Dockerfile"),
        "platform": build.get("platform") or "linux/amd64",
    }
