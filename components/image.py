"""The app image: built from ``app/Dockerfile`` for the tasks' CPU, pushed to ECR, pinned by digest.

Why the tag is a digest of the build's inputs
    Repositories have immutable tags, so a tag can be pushed once. pulumi-docker v5's ``Image``
    rebuilds and pushes whenever its Diff sees any input change (provider/provider.go, ``Diff``:
    ``oldInputs.Diff(news)`` over every input; of ``registry`` only ``server`` counts). Its inputs
    are ``imageName``, ``registry``, ``skipPush``, ``buildOnPreview`` and ``build``: the context
    and Dockerfile path strings as given, ``builderVersion``, ``args``, ``platform``, ``target``,
    ``cacheFrom``, ``network``, ``addHosts``, plus the ``contextDigest`` its ``Check`` adds
    (``hashContext``: the Dockerfile's content, then every context file not excluded by the ignore
    file, with its path and mode; the ignore file is ``<Dockerfile>.dockerignore`` when it exists,
    else ``<context>/.dockerignore``, as in ``getIgnorePatterns``; read at pulumi/pulumi-docker
    237b7899). The tag computed here covers all of them except the repository (``imageName``
    without the tag, and the registry server, which is its host: another repository is another
    namespace of tags), with the same ignore files, so every rebuild pushes a tag that has never
    existed, and an unchanged app keeps its tag and is not rebuilt. The path strings are relative
    to the project directory, so the same checkout gives the same tag on any machine. The ignore
    file therefore decides what counts: caches and virtualenvs belong in it (a warning says so
    when they are not), or every test run would produce a new image.

Why consumers get a digest, never the tag
    ``image_ref`` is ``<repository>@sha256:<digest>`` from the push itself. A task definition that
    names the digest runs exactly the bytes that were built and scanned, a new build always changes
    the task definition (so ECS rolls out), and no tag move can change what runs.

Registry build cache
    Every image is built with ``BUILDKIT_INLINE_CACHE=1``, so a pushed image carries its cache
    metadata. With ``cache_tag`` set, each build is also pushed as ``<repository>:<cache_tag>`` (a
    second ``Image`` with the same inputs: a local cache hit, then a manifest push), and builds use
    that tag as ``cache_from``; a fresh CI runner then reuses the dependency layers. That tag must
    be the repository's one immutability exclusion (``RegistryArgs.build_cache_tag``).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.errors import InputError
from components.registry import AUTO_TAG_PREFIX, check_tag

Platform = Literal["linux/amd64", "linux/arm64"]
CPU_ARCHITECTURE: Final[dict[str, str]] = {"linux/amd64": "X86_64", "linux/arm64": "ARM64"}
"""ECS ``runtimePlatform.cpuArchitecture`` for each build platform."""

RESERVED_BUILD_ARGS: Final = ("VERSION", "BUILDKIT_INLINE_CACHE")
_BUILD_ARG_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PINNED: Final = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
# Paths that should never reach a build context; seeing them means .dockerignore misses them.
_CACHE_DIRS: Final = frozenset(
    {".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", "node_modules"}
)
BUILDER_VERSION: Final = "BuilderBuildKit"
"""pulumi-docker's ``builderVersion`` for BuildKit (the RUN --mount flags of app/Dockerfile need it)."""
_ADD_HOST: Final = re.compile(r"^[A-Za-z0-9.-]+:[0-9A-Fa-f:.]+$")


# --------------------------------------------------------------------------------------------------
# The build context, as Docker and pulumi-docker see it
# --------------------------------------------------------------------------------------------------
def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(c)
            else:
                body = pattern[i + 1 : end]
                if body.startswith(("!", "^")):
                    body = "^" + body[1:]
                out += f"[{body}]"
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(f"^{out}$")


@dataclass(frozen=True)
class DockerIgnore:
    """The rules of a ``.dockerignore``: later lines win, ``!`` re-includes, a matched directory
    excludes everything under it."""

    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def read(cls, context: Path, dockerfile: Path | None = None) -> DockerIgnore:
        """The ignore file Docker and pulumi-docker use: ``<Dockerfile>.dockerignore`` when it
        exists, else ``<context>/.dockerignore``, else none."""
        candidates = [Path(f"{dockerfile}.dockerignore")] if dockerfile is not None else []
        path = next((p for p in [*candidates, context / ".dockerignore"] if p.is_file()), None)
        if path is None:
            return cls(())
        rules: list[tuple[bool, re.Pattern[str]]] = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            line = line[1:].strip() if negate else line
            line = posixpath.normpath(line).lstrip("/")
            if line in ("", "."):
                continue
            rules.append((negate, _glob_to_regex(line)))
        return cls(tuple(rules))

    @property
    def has_exceptions(self) -> bool:
        return any(negate for negate, _ in self.rules)

    def excludes(self, relative: str) -> bool:
        parts = relative.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for negate, regex in self.rules:
            if any(regex.match(c) for c in candidates):
                excluded = not negate
        return excluded


def context_files(context: Path, dockerfile: Path | None = None) -> Iterator[tuple[str, Path]]:
    """Files of the build context not excluded by its ignore file (see ``DockerIgnore.read``), as
    (posix relative path, path), in a stable order."""
    ignore = DockerIgnore.read(context, dockerfile)
    for root, dirs, files in os.walk(context, followlinks=False):
        rel_root = Path(root).relative_to(context).as_posix()
        rel_root = "" if rel_root == "." else rel_root + "/"
        # Prune excluded directories unless a later '!' rule could bring something back.
        dirs[:] = sorted(
            d for d in dirs if ignore.has_exceptions or Path(root, d).is_symlink() or not ignore.excludes(rel_root + d)
        )
        entries = sorted(files + [d for d in dirs if Path(root, d).is_symlink()])
        for name in entries:
            relative = rel_root + name
            if not ignore.excludes(relative):
                yield relative, Path(root, name)


# File digests by (path, mode, size, mtime): a Pulumi run hashes the context once, but one test
# process runs the program many times, and an unexcluded .venv takes seconds to read.
_FILE_DIGESTS: dict[tuple[str, int, int, int], str] = {}


def _file_digest(path: Path) -> str:
    info = path.lstat()
    key = (str(path), info.st_mode, info.st_size, info.st_mtime_ns)
    cached = _FILE_DIGESTS.get(key)
    if cached is not None:
        return cached
    if stat.S_ISLNK(info.st_mode):  # as pulumi-docker does: the link target, not what it points to
        value = hashlib.sha256(os.readlink(path).encode()).hexdigest()
    else:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        value = digest.hexdigest()
    _FILE_DIGESTS[key] = value
    return value


def build_digest(context: Path, dockerfile: Path, inputs: Mapping[str, Any]) -> str:
    """SHA-256 over everything that makes pulumi-docker rebuild: ``inputs`` (the Image's own plain
    inputs, see ``ImageBuild.docker_inputs``), the Dockerfile's content, and each context file's
    path, mode and content under the ignore file pulumi-docker reads."""
    digest = hashlib.sha256()
    digest.update(json.dumps(inputs, sort_keys=True).encode())
    digest.update(b"\0Dockerfile\0" + _file_digest(dockerfile).encode())
    for relative, path in context_files(context, dockerfile):
        mode = stat.filemode(path.lstat().st_mode)
        digest.update(f"\0{relative}\0{mode}\0{_file_digest(path)}".encode())
    return digest.hexdigest()


def cache_dirs_in_context(context: Path, dockerfile: Path | None = None) -> list[str]:
    """Cache/virtualenv directories (``.venv``, ``__pycache__``, ...) that would be sent to the build
    (the outermost one of each path)."""
    found: set[str] = set()
    for relative, _ in context_files(context, dockerfile):
        found.update(next(([part] for part in relative.split("/")[:-1] if part in _CACHE_DIRS), []))
    return sorted(found)


# --------------------------------------------------------------------------------------------------
# Component
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ImageBuild:
    """What to build: plain values, validated before any resource exists (the program builds this
    first, then the registry, then the image)."""

    context: Path
    """Build context directory (``app/``)."""
    dockerfile: Path | None = None
    """Defaults to ``<context>/Dockerfile``."""
    platform: Platform
    """The CPU the tasks run on: build for it, never for the machine that happens to run Pulumi."""
    tag: str | None = None
    """An explicit release tag (``v1.4.2``). None: ``build-<digest of the build inputs>``. Immutable
    tags mean an explicit tag can be pushed once: a changed app needs a new tag."""
    cache_tag: str | None = None
    """Mutable tag used as registry build cache (the repository must exempt it); None: no cache."""
    build_args: Mapping[str, str] = field(default_factory=dict)
    """Extra ``--build-arg`` values; ``VERSION`` (the tag) and ``BUILDKIT_INLINE_CACHE`` are set here."""
    target: str | None = None
    """Dockerfile stage to build (None: the last one)."""
    network: str | None = None
    """Network of the build's RUN steps (``default``, ``host``, ``none`` or a network name)."""
    add_hosts: tuple[str, ...] = ()
    """Extra ``/etc/hosts`` entries for the build, each ``host:ip``."""
    skip_push: bool = False
    """Build without pushing (pulumi-docker then needs no registry)."""
    build_on_preview: bool = False
    """Build during ``pulumi preview`` too; off, so PR previews neither build nor push."""

    def __post_init__(self) -> None:
        if self.platform not in CPU_ARCHITECTURE:
            raise InputError("platform", self.platform, "one of " + ", ".join(CPU_ARCHITECTURE))
        if not self.context.is_dir():
            raise InputError("context", str(self.context), "an existing directory (the build context)")
        if not self.dockerfile_path.is_file():
            raise InputError(
                "dockerfile", str(self.dockerfile_path), "an existing Dockerfile (pulumi-docker checks it at preview)"
            )
        if self.tag is not None:
            check_tag(self.tag, "tag")
        if self.cache_tag is not None:
            check_tag(self.cache_tag, "cache_tag")
            if self.cache_tag.startswith(AUTO_TAG_PREFIX):
                raise InputError("cache_tag", self.cache_tag, f"a tag not starting with {AUTO_TAG_PREFIX!r}")
            if self.cache_tag == self.tag:
                raise InputError(
                    "tag", self.tag, "a tag other than cache_tag (the mutable build cache)", refers=("cache_tag",)
                )
        for name in self.build_args:
            if name in RESERVED_BUILD_ARGS:
                raise InputError("build_args", name, "not " + " or ".join(RESERVED_BUILD_ARGS) + " (set here)")
            if not _BUILD_ARG_NAME.match(name):
                raise InputError("build_args", name, "a build arg name: letters, digits, _")
        if self.network is not None and not self.network.strip():
            raise InputError("network", self.network, "default, host, none or a network name; None to omit")
        for entry in self.add_hosts:
            if not _ADD_HOST.match(entry):
                raise InputError("add_hosts", entry, "host:ip entries (e.g. registry.internal:10.0.0.5)")

    @property
    def dockerfile_path(self) -> Path:
        return self.dockerfile if self.dockerfile is not None else self.context / "Dockerfile"

    @property
    def docker_build_args(self) -> dict[str, str]:
        """Build args that define the image (``VERSION`` is added from the tag)."""
        return {"BUILDKIT_INLINE_CACHE": "1", **dict(self.build_args)}

    @property
    def cache_from(self) -> tuple[str, ...]:
        return (self.cache_tag,) if self.cache_tag else ()

    def docker_inputs(self) -> dict[str, Any]:
        """The ``docker.Image`` inputs this build decides, in the provider's wire names: what the
        component passes and what the tag digests (one source, so they cannot drift). The build
        args leave out ``VERSION`` (the tag itself); ``cacheFrom`` names the cache tag (its
        repository is the image's)."""
        build: dict[str, Any] = {
            "context": _as_given(self.context),
            "dockerfile": _as_given(self.dockerfile_path),
            "builderVersion": BUILDER_VERSION,
            "platform": self.platform,
            "args": dict(sorted(self.docker_build_args.items())),
        }
        optional = {
            "target": self.target,
            "cacheFrom": {"images": [self.cache_tag]} if self.cache_tag else None,
            "network": self.network,
            "addHosts": list(self.add_hosts) or None,
        }
        build |= {key: value for key, value in optional.items() if value is not None}
        return {"build": build, "skipPush": self.skip_push, "buildOnPreview": self.build_on_preview}

    @cached_property
    def image_tag(self) -> str:
        """The explicit tag, or ``build-`` + the first 16 hex digits of ``build_digest``."""
        if self.tag is not None:
            return self.tag
        digest = build_digest(self.context, self.dockerfile_path, self.docker_inputs())
        return AUTO_TAG_PREFIX + digest[:16]


@dataclass(frozen=True, kw_only=True)
class ImageArgs:
    """What to build and where to push it."""

    repository_url: pulumi.Input[str]
    """The ECR repository (``<account>.dkr.ecr.<region>.amazonaws.com/<name>``)."""
    registry_id: pulumi.Input[str]
    """The registry (account) whose authorization token pushes."""
    build: ImageBuild


def _as_given(path: Path) -> str:
    """Paths relative to the project directory when inside it: pulumi-docker stores them in state,
    and an absolute path would differ per machine and force rebuilds (and tag collisions)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def pinned(reference: str) -> str:
    """Refuse anything but ``<repository>@sha256:<64 hex>``: consumers never run a tag."""
    if not _PINNED.match(reference):
        raise ValueError(f"image reference {reference!r} is not digest-pinned (<repository>@sha256:<64 hex>)")
    return reference


class Image(pulumi.ComponentResource):
    """The app image, built for ``platform``, pushed with a unique immutable tag, pinned by digest."""

    image_ref: pulumi.Output[str]
    """``<repository>@sha256:<digest>``: what task definitions must use."""
    image_name: pulumi.Output[str]
    """``<repository>:<tag>`` (for people; never deploy a tag)."""
    tag: str
    """The pushed tag (plain: known at preview)."""
    version: str
    """Passed to the build as ``VERSION`` (equal to the tag)."""
    platform: str
    """``linux/amd64`` or ``linux/arm64``."""
    cpu_architecture: str
    """The matching ECS ``runtimePlatform.cpuArchitecture``: ``X86_64`` or ``ARM64``."""

    def __init__(self, name: str, args: ImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("platform:image:Image", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.build
        repository_url = pulumi.Output.from_input(args.repository_url)
        fixed_args = spec.docker_build_args

        self.platform = spec.platform
        self.cpu_architecture = CPU_ARCHITECTURE[spec.platform]
        self.tag = spec.image_tag
        self.version = self.tag

        leaked = cache_dirs_in_context(spec.context, spec.dockerfile_path)
        if leaked:
            pulumi.log.warn(
                f"the build context {_as_given(spec.context)} does not exclude {', '.join(leaked)} in its ignore "
                "file: they are sent to the Docker build and change the image tag whenever they change",
                resource=self,
            )

        token = aws.ecr.get_authorization_token_output(
            registry_id=args.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        registry = docker.RegistryArgs(
            server=repository_url.apply(lambda url: url.split("/", 1)[0]),
            username=token.user_name,
            password=pulumi.Output.secret(token.password),
        )
        inputs = spec.docker_inputs()
        given = inputs["build"]
        build = docker.DockerBuildArgs(
            context=given["context"],
            dockerfile=given["dockerfile"],
            platform=given["platform"],
            target=given.get("target"),
            builder_version=docker.BuilderVersion(given["builderVersion"]),
            args={**fixed_args, "VERSION": self.version},
            cache_from=(
                docker.CacheFromArgs(images=[pulumi.Output.concat(repository_url, ":", spec.cache_tag)])
                if spec.cache_tag
                else None
            ),
            network=given.get("network"),
            add_hosts=given.get("addHosts"),
        )
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(repository_url, ":", self.tag),
            build=build,
            registry=registry,
            skip_push=inputs["skipPush"],
            build_on_preview=inputs["buildOnPreview"],  # off by default: PR previews must not build or push
            opts=child,
        )
        if spec.cache_tag:
            # Same inputs, so it rebuilds exactly when the image does (from the local cache) and moves
            # the cache tag to the newest build, only after that build pushed successfully.
            docker.Image(
                f"{name}-cache",
                image_name=pulumi.Output.concat(repository_url, ":", spec.cache_tag),
                build=build,
                registry=registry,
                skip_push=inputs["skipPush"],
                build_on_preview=inputs["buildOnPreview"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[image]),
            )

        self.image_name = image.image_name
        self.image_ref = image.repo_digest.apply(pinned)
        self.register_outputs(
            {"imageRef": self.image_ref, "imageName": self.image_name, "tag": self.tag, "platform": self.platform}
        )
