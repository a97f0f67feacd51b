"""`python -m catalog.healthcheck`: exit 0 when /healthz answers 200 (Docker HEALTHCHECK; no curl in slim)."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    """Probe the local server on $PORT."""
    port = int(os.environ.get("PORT", "8080"))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
