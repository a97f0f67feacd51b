"""The recording monitor answers a preview as the engine does: computed values and unknown inputs stay unknown."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pulumi.runtime import rpc

from tests.support import ComponentRunner


def _repository_and_image() -> None:
    repository = aws.ecr.Repository("repo")
    docker.Image(
        "image",
        image_name=pulumi.Output.concat(repository.repository_url, ":v1"),
        build=docker.DockerBuildArgs(context="app"),
        skip_push=True,
    )


def test_at_preview_an_unknown_input_stays_unknown_whatever_the_mock_answers(run_component: ComponentRunner) -> None:
    preview = run_component(_repository_and_image, preview=True)
    image = preview.one("docker:index/image:Image")
    fields = image.wire_outputs.fields
    assert fields["imageName"].string_value == rpc.UNKNOWN, "the repository URL is not known at preview"
    assert fields["repoDigest"].string_value == rpc.UNKNOWN, "computed by the registry"
    assert fields["skipPush"].bool_value is True, "a known input is echoed"
    assert image.id == ""

    update = run_component(_repository_and_image)
    image = update.one("docker:index/image:Image")
    assert image.outputs["imageName"].startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/repo-")
    assert image.outputs["imageName"].endswith(":v1")
    assert image.outputs["repoDigest"].startswith(image.outputs["imageName"].rsplit(":", 1)[0] + "@sha256:")
