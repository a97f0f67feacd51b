"""pulumi-random (``random:index/...``): deterministic stand-ins with the shape the provider produces."""

from __future__ import annotations

import hashlib
import string
from typing import Any

from mockcloud.cloud import Cloud, hexid
from mockcloud.registry import Outputs, outputs

_DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"


@outputs("random:index/randomPassword:RandomPassword")
def _random_password(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    length = int(inputs.get("length") or 16)
    classes = []
    if inputs.get("upper", True):
        classes.append(string.ascii_uppercase)
    if inputs.get("lower", True):
        classes.append(string.ascii_lowercase)
    if inputs.get("numeric", inputs.get("number", True)):
        classes.append(string.digits)
    if inputs.get("special", True):
        classes.append(str(inputs.get("overrideSpecial") or _DEFAULT_SPECIAL))
    alphabet = "".join(classes) or string.ascii_letters
    # Deterministic per resource name, and one character of each class first (the min_* inputs).
    stream = hashlib.sha512(f"mock-random:{name}".encode()).digest() * (length // 64 + 1)
    chars = [c[stream[i] % len(c)] for i, c in enumerate(classes)]
    chars += [alphabet[b % len(alphabet)] for b in stream[len(chars) : length]]
    result = "".join(chars[:length])
    # The provider gives every RandomPassword the ID "none" (the value lives only in `result`).
    return "none", {"result": result, "bcryptHash": f"$2a$10${hexid(name, 53)}"}
