"""The Fargate service component as the policy pack sees it.

The component (``components/fargate_service.py``) registers its declared container as the input and
output ``containerSpec``: the container definition in ECS keys with only values known at preview
(the task definition's ``containerDefinitions`` embeds the image digest and is unknown until
``pulumi up`` pushes the image). The pack's container policies check that spec at preview and the
task definition at ``up``.
"""

from __future__ import annotations

import re
from typing import Final

TYPE_TOKEN: Final = "platform:ecs:FargateService"  # noqa: S105 (a type token, not a secret)
"""The component's Pulumi type token (URNs, the pack's resource type)."""
CONTAINER_SPEC: Final = "containerSpec"
"""Name of the component input (and output) holding the declared container spec."""
COMPUTED: Final = "<computed>"
"""An environment value in the spec that is another resource's output (known only during ``up``)."""
SPEC_ONLY_KEYS: Final = frozenset({"imageRepository", "imagePinnedByDigest"})
"""Keys of the spec that a container definition does not have: the spec names the image's
repository and promises a digest (``image`` itself is only known at ``up``)."""

# Names that say they hold a secret, and names that only *refer to* one (its ARN, name, ID, a file
# path): ``DATABASE_PASSWORD`` is a secret, ``DATABASE_SECRET_ARN`` is not.
_SECRET_NAME: Final = re.compile(
    r"(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY)",
    re.IGNORECASE,
)
_SECRET_REFERENCE_SUFFIX: Final = re.compile(r"_(ARN|NAME|ID|FILE|PATH|KEY_ID|SECRET_ID)$", re.IGNORECASE)
_SECRET_VALUE: Final = (
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ID
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),  # credentials inside a URL
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret (so it belongs in ``secrets``)."""
    return _SECRET_NAME.search(name) is not None and _SECRET_REFERENCE_SUFFIX.search(name) is None


def is_secret_value(value: object) -> bool:
    """Whether a plain value looks like a credential (an access key, a private key, a URL with a password)."""
    return isinstance(value, str) and any(p.search(value) for p in _SECRET_VALUE)
