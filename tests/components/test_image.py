"""The image component alone: platform, unique reproducible tags, ECR credentials, digest pinning, cache."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.errors import InputError
from components.image import (
    DockerIgnore,
    Image,
    ImageArgs,
    ImageBuild,
    build_digest,
    cache_dirs_in_context,
    context_files,
    pinned,
)
from components.registry import AUTO_TAG_PREFIX
from mockcloud.runner import StackRun
from stack.settings import IMAGE as IMAGE_KEYS
from tests.support import ComponentRunner, config_defaults

REPO_URL = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/container-platform/test/app"
IMAGE = "docker:index/image:Image"
DIGEST_REF = re.compile(
    r"^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/container-platform/test/app@sha256:[0-9a-f]{64}$"
)


def build_of(**kwargs: Any) -> ImageBuild:
    """An ImageBuild at Pulumi.yaml's default platform (the one home of that default)."""
    return ImageBuild(**{**config_defaults(IMAGE_KEYS, ImageBuild), **kwargs})


@pytest.fixture
def context(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "src" / "catalog").mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM python:3.12-slim\nARG VERSION\nCOPY src /app/src\n")
    (app / "src" / "catalog" / "main.py").write_text("print('hello')\n")
    (app / "pyproject.toml").write_text("[project]\nname = 'catalog'\n")
    (app / ".dockerignore").write_text("# caches\n.venv\n**/__pycache__\n*.pyc\ntests/\n!tests/keep.txt\n")
    return app


def _run(
    run_component: ComponentRunner, context: Path, *, preview: bool = False, **kwargs: Any
) -> tuple[StackRun, Image]:
    captured: dict[str, Image] = {}

    def program() -> None:
        build = build_of(context=context, **kwargs)
        captured["image"] = Image("img", ImageArgs(repository_url=REPO_URL, registry_id="123456789012", build=build))

    run = run_component(program, preview=preview)
    return run, captured["image"]


def _tag(context: Path, **kwargs: Any) -> str:
    return build_of(context=context, **kwargs).image_tag


# --------------------------------------------------------------------------------------------------
# Platform and build inputs
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("platform", "cpu"), [("linux/amd64", "X86_64"), ("linux/arm64", "ARM64")])
def test_built_for_the_configured_platform(
    run_component: ComponentRunner, context: Path, platform: str, cpu: str
) -> None:
    run, image = _run(run_component, context, platform=platform)
    build = run.one(IMAGE).inputs["build"]
    assert build["platform"] == platform
    assert build["builderVersion"] == "BuilderBuildKit"
    assert build["dockerfile"].endswith("app/Dockerfile")
    assert build["context"].endswith("app")
    assert image.platform == platform
    assert image.cpu_architecture == cpu


def test_build_args_carry_the_version_and_inline_cache(run_component: ComponentRunner, context: Path) -> None:
    run, image = _run(run_component, context, build_args={"PYTHON_VERSION": "3.12"})
    args = run.one(IMAGE).inputs["build"]["args"]
    assert args == {"VERSION": image.tag, "BUILDKIT_INLINE_CACHE": "1", "PYTHON_VERSION": "3.12"}
    assert image.version == image.tag


def test_pushed_with_a_unique_tag_and_never_built_on_preview(run_component: ComponentRunner, context: Path) -> None:
    run, image = _run(run_component, context)
    resource = run.one(IMAGE)
    assert re.fullmatch(rf"{AUTO_TAG_PREFIX}[0-9a-f]{{16}}", image.tag)
    assert resource.inputs["imageName"] == f"{REPO_URL}:{image.tag}"
    assert resource.inputs["skipPush"] is False
    assert resource.inputs["buildOnPreview"] is False


def test_explicit_release_tag(run_component: ComponentRunner, context: Path) -> None:
    run, image = _run(run_component, context, tag="v1.4.2")
    assert image.tag == "v1.4.2"
    assert run.one(IMAGE).inputs["imageName"] == f"{REPO_URL}:v1.4.2"
    assert run.one(IMAGE).inputs["build"]["args"]["VERSION"] == "v1.4.2"


# --------------------------------------------------------------------------------------------------
# The tag: a reproducible digest of what makes pulumi-docker rebuild
# --------------------------------------------------------------------------------------------------
def test_tag_is_reproducible(context: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(context.parent)
    first = _tag(Path("app"))
    assert _tag(Path("app")) == first
    assert _tag(context) == first, "an absolute path to the same context is the same input string"
    other = tmp_path / "other-checkout"
    shutil.copytree(context.parent, other, symlinks=True, copy_function=shutil.copy2)
    monkeypatch.chdir(other)
    assert _tag(Path("app")) == first, "the same files at the same place in another checkout give the same tag"


def test_tag_changes_with_source_dockerfile_platform_and_args(context: Path) -> None:
    base = _tag(context)
    assert _tag(context, platform="linux/arm64") != base
    assert _tag(context, build_args={"EXTRA": "1"}) != base
    assert _tag(context, cache_tag="buildcache") != base
    assert _tag(context, target="runtime") != base
    (context / "src" / "catalog" / "main.py").write_text("print('changed')\n")
    changed_source = _tag(context)
    assert changed_source != base
    (context / "Dockerfile").write_text("FROM python:3.13-slim\n")
    assert _tag(context) != changed_source


# Every input pulumi-docker v5 diffs (provider/provider.go Diff over all inputs, Check adding
# build.contextDigest) must change the tag, or a rebuild would push an existing tag and the
# IMMUTABLE repository would refuse it.
@pytest.mark.parametrize(
    ("setting", "kwargs"),
    [
        ("build.network", {"network": "host"}),
        ("build.addHosts", {"add_hosts": ("registry.internal:10.0.0.5",)}),
        ("skipPush", {"skip_push": True}),
        ("buildOnPreview", {"build_on_preview": True}),
        ("build.target", {"target": "runtime"}),
        ("build.cacheFrom", {"cache_tag": "buildcache"}),
        ("build.platform", {"platform": "linux/arm64"}),
        ("build.args", {"build_args": {"PYTHON_IMAGE": "python:3.12-slim"}}),
    ],
)
def test_each_image_input_changes_the_tag(context: Path, setting: str, kwargs: dict[str, Any]) -> None:
    assert _tag(context, **kwargs) != _tag(context), setting


def test_the_context_path_string_changes_the_tag(context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(context.parent)
    base = _tag(Path("app"))
    moved = context.parent / "service"
    context.rename(moved)
    assert _tag(Path("service")) != base, "same files under another context path: pulumi-docker rebuilds"


def test_the_dockerfile_path_string_changes_the_tag(context: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(context.parent)
    base = _tag(Path("app"))
    shutil.copy(context / "Dockerfile", context / "Dockerfile.prod")
    (context / ".dockerignore").write_text((context / ".dockerignore").read_text() + "Dockerfile*\n")
    excluded = _tag(Path("app"))
    assert excluded != base  # the ignore file itself is part of the context
    renamed = _tag(Path("app"), dockerfile=Path("app/Dockerfile.prod"))
    assert renamed != excluded, "same content, other Dockerfile path: pulumi-docker rebuilds"


def test_the_builder_version_changes_the_digest(context: Path) -> None:
    build = build_of(context=context)
    inputs = build.docker_inputs()
    assert inputs["build"]["builderVersion"] == "BuilderBuildKit"
    classic = {**inputs, "build": {**inputs["build"], "builderVersion": "BuilderV1"}}
    digest = build_digest(context, build.dockerfile_path, inputs)
    assert build_digest(context, build.dockerfile_path, classic) != digest


def test_the_component_passes_exactly_what_the_tag_digests(run_component: ComponentRunner, context: Path) -> None:
    kwargs: dict[str, Any] = {
        "network": "host",
        "add_hosts": ("registry.internal:10.0.0.5",),
        "skip_push": True,
        "build_on_preview": True,
        "target": "runtime",
        "cache_tag": "buildcache",
    }
    run, image = _run(run_component, context, **kwargs)
    inputs = build_of(context=context, **kwargs).docker_inputs()
    resource = run.one(IMAGE, "img-image")
    sent = dict(resource.inputs["build"])
    assert sent.pop("cacheFrom") == {"images": [f"{REPO_URL}:buildcache"]}
    assert sent.pop("args") == {**inputs["build"]["args"], "VERSION": image.tag}
    expected = {k: v for k, v in inputs["build"].items() if k not in ("cacheFrom", "args")}
    assert sent == expected
    assert resource.inputs["skipPush"] is True
    assert resource.inputs["buildOnPreview"] is True


def test_a_dockerfile_specific_ignore_file_wins(context: Path) -> None:
    """Docker and pulumi-docker read <Dockerfile>.dockerignore before <context>/.dockerignore."""
    (context / "tests").mkdir()
    (context / "tests" / "test_main.py").write_text("")
    base = _tag(context)
    assert "tests/test_main.py" not in [rel for rel, _ in context_files(context, context / "Dockerfile")]
    (context / "Dockerfile.dockerignore").write_text("Dockerfile.dockerignore\n")  # lets tests/ in
    files = [rel for rel, _ in context_files(context, context / "Dockerfile")]
    assert "tests/test_main.py" in files
    with_specific = _tag(context)
    assert with_specific != base
    (context / "tests" / "test_main.py").write_text("x = 1\n")
    assert _tag(context) != with_specific, "files the specific ignore file lets in count"
    (context / ".dockerignore").write_text("*\n")
    assert DockerIgnore.read(context, context / "Dockerfile").excludes("tests/test_main.py") is False


def test_tag_changes_with_file_mode_and_new_files(context: Path) -> None:
    base = _tag(context)
    (context / "src" / "catalog" / "main.py").chmod(0o755)
    executable = _tag(context)
    assert executable != base, "pulumi-docker hashes modes too: a rebuild must get a new tag"
    (context / "src" / "catalog" / "new.py").write_text("")
    assert _tag(context) != executable


def test_files_excluded_by_dockerignore_do_not_change_the_tag(context: Path) -> None:
    base = _tag(context)
    (context / ".venv" / "lib").mkdir(parents=True)
    (context / ".venv" / "lib" / "site.py").write_text("x = 1\n")
    (context / "src" / "catalog" / "__pycache__").mkdir()
    (context / "src" / "catalog" / "__pycache__" / "main.cpython-312.pyc").write_bytes(b"\x00")
    (context / "tests").mkdir()
    (context / "tests" / "test_main.py").write_text("")
    assert _tag(context) == base
    (context / "tests" / "keep.txt").write_text("re-included by !tests/keep.txt")
    assert _tag(context) != base


def test_cache_directories_missing_from_dockerignore_are_reported(context: Path) -> None:
    assert cache_dirs_in_context(context) == []
    (context / ".dockerignore").write_text("tests/\n")
    (context / ".venv").mkdir()
    (context / ".venv" / "pyvenv.cfg").write_text("")
    (context / "src" / "catalog" / "__pycache__").mkdir()
    (context / "src" / "catalog" / "__pycache__" / "x.pyc").write_bytes(b"")
    assert cache_dirs_in_context(context) == [".venv", "__pycache__"]


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (".venv", ".venv/lib/site.py", True),
        ("**/__pycache__", "src/a/__pycache__/m.pyc", True),
        ("**/__pycache__", "__pycache__/m.pyc", True),
        ("*.pyc", "m.pyc", True),
        ("*.pyc", "src/m.pyc", False),  # '*' does not cross directories
        ("src/*/test_*.py", "src/a/test_x.py", True),
        ("/docs", "docs/readme.md", True),
        ("docs\n!docs/keep.md", "docs/keep.md", False),
        ("docs\n!docs/keep.md", "docs/other.md", True),
        ("ab?", "abc", True),
        ("[a-c]x", "bx", True),
        ("# comment", "# comment", False),
    ],
)
def test_dockerignore_rules(tmp_path: Path, patterns: str, path: str, excluded: bool) -> None:
    (tmp_path / ".dockerignore").write_text(patterns + "\n")
    assert DockerIgnore.read(tmp_path).excludes(path) is excluded


def test_context_files_are_sorted_relative_posix_paths(context: Path) -> None:
    assert [rel for rel, _ in context_files(context)] == [
        ".dockerignore",
        "Dockerfile",
        "pyproject.toml",
        "src/catalog/main.py",
    ]


def test_build_digest_covers_a_dockerfile_outside_the_context(context: Path, tmp_path: Path) -> None:
    outside = tmp_path / "Dockerfile.prod"
    outside.write_text("FROM scratch\n")
    inputs = build_of(context=context, dockerfile=outside).docker_inputs()
    one = build_digest(context, outside, inputs)
    outside.write_text("FROM busybox\n")
    assert build_digest(context, outside, inputs) != one


# --------------------------------------------------------------------------------------------------
# Push credentials and the digest reference
# --------------------------------------------------------------------------------------------------
def test_push_uses_the_ecr_authorization_token_as_a_secret(run_component: ComponentRunner, context: Path) -> None:
    run, _ = _run(run_component, context)
    resource = run.one(IMAGE)
    registry = resource.wire_inputs.fields["registry"].struct_value
    assert registry.fields["server"].string_value == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert registry.fields["username"].string_value == "AWS"
    # The token's password is sent (and stored in state) as a secret, never in plain text.
    password = registry.fields["password"].struct_value
    assert password.fields[rpc._special_sig_key].string_value == rpc._special_secret_sig
    assert password.fields["value"].string_value == "mock-ecr-password"


def test_image_ref_is_the_pushed_digest_not_a_tag(run_component: ComponentRunner, context: Path) -> None:
    captured: dict[str, Any] = {}

    def program() -> None:
        import pulumi

        image = Image(
            "img",
            ImageArgs(repository_url=REPO_URL, registry_id="123456789012", build=build_of(context=context)),
        )
        pulumi.export("ref", image.image_ref)
        pulumi.export("name", image.image_name)
        captured["tag"] = image.tag

    run = run_component(program)
    ref = run.outputs["ref"]
    assert DIGEST_REF.match(ref)
    assert ref == run.one(IMAGE).outputs["repoDigest"]
    assert captured["tag"] not in ref
    assert run.outputs["name"].endswith(f":{captured['tag']}")


def test_image_ref_is_unknown_at_preview_but_the_tag_is_known(run_component: ComponentRunner, context: Path) -> None:
    def program() -> None:
        import pulumi

        image = Image(
            "img",
            ImageArgs(repository_url=REPO_URL, registry_id="123456789012", build=build_of(context=context)),
        )
        pulumi.export("ref", image.image_ref)
        pulumi.export("tag", image.tag)

    run = run_component(program, preview=True)
    assert "ref" in run.unknown_outputs
    assert run.outputs["tag"].startswith(AUTO_TAG_PREFIX)


@pytest.mark.parametrize(
    "reference",
    [f"{REPO_URL}:v1.4.2", f"{REPO_URL}:latest", "sha256:" + "a" * 64, f"{REPO_URL}@sha256:abc", ""],
)
def test_tags_and_bare_digests_are_not_pinned_references(reference: str) -> None:
    with pytest.raises(ValueError, match="not digest-pinned"):
        pinned(reference)


# --------------------------------------------------------------------------------------------------
# Registry build cache
# --------------------------------------------------------------------------------------------------
def test_registry_cache_is_read_and_refreshed_after_a_successful_push(
    run_component: ComponentRunner, context: Path
) -> None:
    run, _ = _run(run_component, context, cache_tag="buildcache")
    main = run.one(IMAGE, "img-image")
    cache = run.one(IMAGE, "img-cache")
    assert main.inputs["build"]["cacheFrom"] == {"images": [f"{REPO_URL}:buildcache"]}
    assert cache.inputs["imageName"] == f"{REPO_URL}:buildcache"
    assert cache.inputs["build"] == main.inputs["build"]  # same inputs: rebuilt together, from local cache
    assert main.urn in cache.dependencies
    assert main.outputs["repoDigest"].split("@")[1] == cache.outputs["repoDigest"].split("@")[1]


def test_without_a_cache_tag_there_is_one_image_and_no_cache_from(
    run_component: ComponentRunner, context: Path
) -> None:
    run, _ = _run(run_component, context)
    assert [r.name for r in run.of_type(IMAGE)] == ["img-image"]
    assert "cacheFrom" not in run.one(IMAGE).inputs["build"]


# --------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"platform": "linux/386"}, "platform"),
        ({"platform": "arm64"}, "platform"),
        ({"tag": "v1.0:bad"}, "tag"),
        ({"tag": "-leading-dash"}, "tag"),
        ({"tag": "buildcache", "cache_tag": "buildcache"}, "tag"),  # the image tag may not be the cache tag
        ({"cache_tag": "build-cache"}, "cache_tag"),
        ({"build_args": {"VERSION": "x"}}, "build_args"),
        ({"build_args": {"BAD-NAME": "x"}}, "build_args"),
        ({"dockerfile": Path("/nonexistent/Dockerfile")}, "dockerfile"),
        ({"network": " "}, "network"),
        ({"add_hosts": ("no-ip-here",)}, "add_hosts"),
    ],
)
def test_bad_build_settings_name_the_setting(context: Path, kwargs: dict[str, Any], setting: str) -> None:
    with pytest.raises(InputError) as error:
        build_of(context=context, **kwargs)
    assert error.value.setting == setting


def test_missing_context_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="an existing directory"):
        build_of(context=tmp_path / "nope")
