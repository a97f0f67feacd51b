"""pulumi-docker (``docker:index/...``): the image the program builds and pushes to ECR."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pulumi.runtime import rpc

from mockcloud.cloud import Cloud
from mockcloud.registry import Outputs, outputs


def _unwrap(value: Any) -> Any:
    """A nested secret arrives as the wire wrapper ({<secret sig>: ..., "value": ...})."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value.get("value")
    return value


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
