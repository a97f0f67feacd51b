"""The registry and image in the whole program, per committed stack: scanning per env, exports, digest use."""

from __future__ import annotations

import json
import re

from mockcloud.runner import StackRun
from stack import exports
from tests.support import cached_run

REPOSITORY = "aws:ecr/repository:Repository"
SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGE = "docker:index/image:Image"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DIGEST_REF = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9/_.-]+@sha256:[0-9a-f]{64}$")


def _app_image(run: StackRun) -> dict[str, object]:
    return run.one(IMAGE, f"{run.stack}-app-image").outputs


def test_exports_repository_digest_reference_and_settings(stack_run: StackRun) -> None:
    outputs = stack_run.outputs
    repository = stack_run.one(REPOSITORY)
    assert outputs[exports.REPOSITORY_URL] == repository.outputs["repositoryUrl"]
    assert repository.inputs["name"] == f"container-platform/{stack_run.stack}/app"
    assert DIGEST_REF.match(outputs[exports.IMAGE_REF])
    assert outputs[exports.IMAGE_REF] == _app_image(stack_run)["repoDigest"]
    assert outputs[exports.IMAGE_REF].startswith(outputs[exports.REPOSITORY_URL] + "@sha256:")
    assert outputs[exports.IMAGE_PLATFORM] == "linux/amd64"
    assert _app_image(stack_run)["imageName"] == f"{outputs[exports.REPOSITORY_URL]}:{outputs[exports.IMAGE_TAG]}"
    assert outputs[exports.REGISTRY_SETTINGS]["repositories"] == [repository.inputs["name"]]


def test_dev_scans_on_push_prod_scans_continuously() -> None:
    dev, prod = cached_run("dev"), cached_run("prod")
    for run, scan_type, frequency in ((dev, "BASIC", "SCAN_ON_PUSH"), (prod, "ENHANCED", "CONTINUOUS_SCAN")):
        # This region's configuration; prod writes the same rules in its replica region too (templates).
        scanning = run.one(SCANNING, f"{run.stack}-registry-scanning").inputs
        assert scanning["scanType"] == scan_type
        assert [r["scanFrequency"] for r in scanning["rules"]] == [frequency]
        assert scanning["rules"][0]["repositoryFilters"] == [
            {"filter": "container-platform/*", "filterType": "WILDCARD"}
        ]
        assert run.one(REPOSITORY).inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        settings = run.outputs[exports.REGISTRY_SETTINGS]
        assert (settings["scanType"], settings["scanFrequency"]) == (scan_type, frequency)


def test_tags_are_immutable_in_every_stack_with_only_the_dev_cache_tag_exempt() -> None:
    dev, prod = cached_run("dev").one(REPOSITORY).inputs, cached_run("prod").one(REPOSITORY).inputs
    assert prod["imageTagMutability"] == "IMMUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in prod
    assert dev["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert dev["imageTagMutabilityExclusionFilters"] == [{"filter": "buildcache", "filterType": "WILDCARD"}]
    assert cached_run("dev").one(IMAGE, "dev-app-image").inputs["build"]["cacheFrom"]["images"] == [
        cached_run("dev").outputs[exports.REPOSITORY_URL] + ":buildcache"
    ]
    assert "cacheFrom" not in cached_run("prod").one(IMAGE, "prod-app-image").inputs["build"]


def test_prod_uses_a_customer_key_and_replicates_dev_does_not() -> None:
    dev, prod = cached_run("dev"), cached_run("prod")
    key = prod.one("aws:kms/key:Key", "prod-registry-key")
    assert prod.one(REPOSITORY).inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}
    ]
    assert prod.one(REPOSITORY).inputs["forceDelete"] is False
    assert dev.one(REPOSITORY).inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    assert dev.one(REPOSITORY).inputs["forceDelete"] is True
    [rule] = prod.one(REPLICATION).inputs["replicationConfiguration"]["rules"]
    assert rule["destinations"] == [{"region": "eu-central-1", "registryId": "123456789012"}]
    assert rule["repositoryFilters"] == [{"filter": "container-platform/", "filterType": "PREFIX_MATCH"}]
    assert dev.of_type(REPLICATION) == []


def test_lifecycle_policy_per_stack() -> None:
    counts = {}
    for stack in ("dev", "prod"):
        rules = json.loads(cached_run(stack).one(LIFECYCLE).inputs["policy"])["rules"]
        counts[stack] = [r["selection"]["countNumber"] for r in rules]
        assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "tagged", "any"]
    assert counts == {"dev": [3, 10, 15], "prod": [14, 50, 50]}


def test_a_stack_that_does_not_own_the_registry_settings_leaves_them_alone() -> None:
    run = cached_run("dev", ecrRegistrySettingsOwner=False)
    assert run.of_type(SCANNING) == []
    assert run.of_type(REPLICATION) == []
    assert run.of_type("aws:ssm/parameter:Parameter") == []
    assert run.outputs[exports.REGISTRY_SETTINGS]["ownsRegistrySettings"] is False
    assert run.one(REPOSITORY).inputs["imageScanningConfiguration"] == {"scanOnPush": True}


def test_image_is_built_for_the_configured_platform() -> None:
    run = cached_run("dev", imagePlatform="linux/arm64")
    assert run.one(IMAGE, "dev-app-image").inputs["build"]["platform"] == "linux/arm64"
    assert run.outputs[exports.IMAGE_PLATFORM] == "linux/arm64"
    assert run.outputs[exports.IMAGE_TAG] != cached_run("dev").outputs[exports.IMAGE_TAG]
    tasks = run.of_type(TASK_DEFINITION)
    assert tasks
    for task in tasks:  # the tasks run on the CPU the image was built for
        assert task.inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"


def test_services_consume_the_digest_reference_never_a_tag(stack_run: StackRun) -> None:
    reference = stack_run.outputs[exports.IMAGE_REF]
    images = [
        container["image"]
        for task in stack_run.of_type(TASK_DEFINITION)
        for container in json.loads(task.inputs["containerDefinitions"])
    ]
    assert images, "the services run the app image"
    assert stack_run.outputs[exports.IMAGE_TAG] not in reference
    for image in images:
        assert image == reference, "task definitions run the pushed digest, not a tag"


def test_the_image_is_pushed_to_the_stacks_repository_with_ecr_credentials(stack_run: StackRun) -> None:
    repository = stack_run.one(REPOSITORY)
    image = stack_run.one(IMAGE, f"{stack_run.stack}-app-image")
    assert repository.urn in image.dependencies
    assert image.inputs["skipPush"] is False
    assert image.inputs["buildOnPreview"] is False
    assert image.inputs["build"]["context"] == "app"
    assert image.inputs["build"]["dockerfile"] == "app/Dockerfile"
    assert image.inputs["build"]["args"]["VERSION"] == stack_run.outputs[exports.IMAGE_TAG]


def test_preview_knows_the_tag_and_the_policies_but_not_the_digest() -> None:
    run = cached_run("prod", preview=True)
    assert exports.IMAGE_REF in run.unknown_outputs
    assert re.fullmatch(r"build-[0-9a-f]{16}", run.outputs[exports.IMAGE_TAG])  # computed from the files
    assert json.loads(run.one(LIFECYCLE).inputs["policy"])["rules"]
    assert {s.inputs["scanType"] for s in run.of_type(SCANNING)} == {"ENHANCED"}
    assert run.one(REPOSITORY).inputs["imageTagMutability"] == "IMMUTABLE"
