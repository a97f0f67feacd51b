"""``make image``: build app/Dockerfile with BuildKit into a local image and print its name.

The bases are the Dockerfile's own (``python:*-slim-bookworm``, uv's image) where they can be
pulled, else stand-ins built from Debian packages (tools/containers/bases.py), passed as build args:
the Dockerfile is the one ``pulumi up`` builds, unchanged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Final

from tools.containers import bases
from tools.containers.docker import ROOT, build, inspect

CONTEXT: Final = ROOT / "app"
LOCAL_IMAGE: Final = "catalog-service:local"


def build_app(
    tag: str = LOCAL_IMAGE, *, context: Path = CONTEXT, base: bases.Bases | None = None, quiet: bool = False
) -> float:
    """Build the app image; return the seconds the build took."""
    base = base or bases.app_bases()
    started = time.monotonic()
    build(context, tag=tag, build_args=base.build_args, quiet=quiet)
    return time.monotonic() - started


def image_size(tag: str) -> int:
    """Uncompressed size in bytes, as ``docker images`` shows it."""
    size: int = inspect("image", tag)["Size"]
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make image", description=__doc__.split("\n")[0])
    parser.add_argument("--tag", default=LOCAL_IMAGE)
    args = parser.parse_args(argv)
    base = bases.app_bases()
    for image in base.standins:
        print(f"image: base stand-in {image} (no registry answered; docs/containers.md)", file=sys.stderr)
    seconds = build_app(args.tag, base=base)
    print(f"image: built in {seconds:.1f} s, {image_size(args.tag) / 1e6:.0f} MB", file=sys.stderr)
    print(args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
