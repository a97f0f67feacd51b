"""Values in a stack file that are examples only, and who may run with them.

A committed stack file that must plan offline and read as a real example carries values from the
ranges reserved for documentation: domains under ``example.com``/``.net``/``.org`` and the
``example``, ``test``, ``invalid`` and ``localhost`` top-level domains (RFC 2606, RFC 6761), the
IPv4 documentation networks 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737), the IPv6
ones 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637), and the AWS documentation account
123456789012 inside an ARN. None of them can be right for a deployment: nobody can get a public
certificate for an example domain, and nobody's clients come from a documentation range.

The offline plan lists them under "Replace before the first `pulumi up`"; a real engine refuses them
(``refuse_placeholders``) before the program asks AWS anything, naming the key, the value and why.

How the program tells the two apart: the Pulumi SDK's mock runtime (``pulumi.runtime.set_mocks``,
which the offline plan and every test use through ``mockcloud.runner``) installs a
``pulumi.runtime.mocks.MockMonitor`` as the resource monitor (sdk/python/lib/pulumi/runtime/mocks.py),
while the real language host (``pulumi-language-python-exec``, started by the CLI for ``pulumi
preview`` and ``pulumi up``, and by the Automation API) passes the engine's gRPC address and the SDK
connects a ``ResourceMonitorStub`` to it (runtime/settings.py). So "runs against a real engine" is
"the monitor is not the SDK's mock": no flag to forget, and any runtime that is not the mock refuses.

``pulumi preview`` refuses them too (it does not merely warn): a preview is what CI gates pull requests
on, so a documentation CIDR slipped into ``nlbIngressCidrs`` fails the pull request, not the deploy;
and a preview with an example zone could not get past the Route 53 lookup anyway.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import pulumi.runtime
from pulumi.runtime.mocks import MockMonitor

DOCUMENTATION_NETWORKS: Final = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
"""RFC 5737 (IPv4 TEST-NET-1/2/3), RFC 3849 and RFC 9637 (IPv6 documentation prefixes)."""
DOCUMENTATION_DOMAINS: Final = ("example.com", "example.net", "example.org")
"""RFC 2606 section 3: second-level domains reserved for examples."""
RESERVED_TLDS: Final = ("example", "test", "invalid", "localhost")
"""RFC 2606 section 2 / RFC 6761: top-level domains that never resolve publicly."""
DOCUMENTATION_ACCOUNT: Final = "123456789012"
"""The account ID AWS's documentation uses in example ARNs."""


@dataclass(frozen=True)
class Placeholder:
    """A config value that is an example only."""

    key: str
    """The bare config key (``domainName``)."""
    value: str
    """The value as the stack file writes it (the item, for a list)."""
    why: str
    """Which reserved range it is in, and so why it cannot be deployed."""


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def why_example(value: str) -> str | None:
    """Why ``value`` is an example only (a reserved domain, range or account), or None when it is not."""
    text = value.strip().lower().rstrip(".")
    network = _network(text)
    if network is not None:
        for documentation in DOCUMENTATION_NETWORKS:
            if network.version == documentation.version and network.subnet_of(documentation):  # type: ignore[arg-type]
                rfc = "RFC 5737" if network.version == 4 else "RFC 3849 / RFC 9637"
                return f"inside {documentation}, an address range reserved for documentation ({rfc}); no client has it"
        return None
    if text.startswith("arn:"):
        parts = text.split(":")
        if len(parts) > 4 and parts[4] == DOCUMENTATION_ACCOUNT:
            return f"account {DOCUMENTATION_ACCOUNT} is the one AWS's documentation uses in examples"
        return None
    name = text[2:] if text.startswith("*.") else text
    if "." in name and " " not in name and "/" not in name and "@" not in name:
        for domain in DOCUMENTATION_DOMAINS:
            if name == domain or name.endswith("." + domain):
                return (
                    f"{domain} is reserved for documentation (RFC 2606): no one can own it or get a certificate for it"
                )
        tld = name.rsplit(".", 1)[-1]
        if tld in RESERVED_TLDS:
            return f".{tld} is a reserved top-level domain (RFC 2606, RFC 6761): it never resolves publicly"
    return None


def find_placeholders(values: Iterable[tuple[str, object]]) -> list[Placeholder]:
    """The example-only values among ``(key, value)`` pairs; a list value is judged item by item."""
    found: list[Placeholder] = []
    for key, value in values:
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, str) and (why := why_example(item)) is not None:
                found.append(Placeholder(key, item, why))
    return found


def running_under_mocks() -> bool:
    """Whether the program runs under the SDK's mock runtime rather than a Pulumi engine (see above)."""
    return isinstance(pulumi.runtime.settings.get_monitor(), MockMonitor)
