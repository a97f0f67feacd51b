"""Stack settings: the one place that reads Pulumi config.

Every project key is declared (type, default, description) in the ``config:`` block of
``Pulumi.yaml``; the Pulumi CLI applies those defaults, and so does the offline plan. This module
turns the raw values into frozen, validated objects *before any resource is registered*, so a typo
or an out-of-range number stops the run with a message that names the key, the value and what is
allowed, and nothing is created or changed.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

import pulumi
import yaml

PROJECT_FILE: Final = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

Environment = Literal["dev", "staging", "prod"]
NatGatewayMode = Literal["none", "single", "per-az"]

# The retention values CloudWatch Logs accepts (PutRetentionPolicy); anything else is rejected by AWS.
LOG_RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class ConfigError(ValueError):
    """A stack setting is missing, of the wrong type, or outside what is allowed."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"config '{key}' = {value!r} is not valid: {allowed}")


@cache
def declared_config() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml: key -> declaration (type, default, description)."""
    project = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))
    return dict(project.get("config") or {})


def project_name() -> str:
    return str(yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["name"])


class ConfigReader:
    """Typed getters over ``pulumi.Config`` whose errors name the fully qualified key.

    Defaults come from Pulumi.yaml (the CLI injects them); a key the file does not declare cannot be
    read, which keeps the documentation and the code in step.
    """

    def __init__(self, config: pulumi.Config | None = None) -> None:
        self._config = config or pulumi.Config()
        self._declared = declared_config()

    def qualified(self, key: str) -> str:
        return self._config.full_key(key)

    def _raw(self, key: str) -> Any:
        if key not in self._declared:
            raise KeyError(f"'{key}' is not declared in the config: block of Pulumi.yaml")
        value = self._config.get(key)
        if value is None:
            return self._declared[key].get("default")
        return value

    def _error(self, key: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(self.qualified(key), value, allowed)

    def string(self, key: str) -> str:
        value = self._raw(key)
        if value is None:
            raise self._error(key, None, "a value is required")
        return str(value)

    def choice(self, key: str, options: Sequence[str]) -> str:
        """A string from a fixed set (pass ``get_args(SomeLiteral)``)."""
        value = self._raw(key)
        if value not in options:
            raise self._error(key, value, "one of " + ", ".join(options))
        return str(value)

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise self._error(key, value, "true or false")

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._raw(key)
        bounds = f"a whole number from {minimum if minimum is not None else '-inf'} to "
        bounds += f"{maximum if maximum is not None else 'inf'}"
        try:
            number = int(str(value), 10)
        except ValueError:
            raise self._error(key, value, bounds) from None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise self._error(key, value, bounds)
        return number

    def integer_in(self, key: str, allowed: Sequence[int]) -> int:
        value = self._raw(key)
        try:
            number = int(str(value), 10)
        except ValueError:
            number = -1
        if number not in allowed:
            raise self._error(key, value, "one of " + ", ".join(str(a) for a in allowed))
        return number

    def string_list(self, key: str, *, item: Callable[[str], bool] | None = None, what: str = "") -> list[str]:
        value = self._raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value) if value else []
            except json.JSONDecodeError:
                raise self._error(key, value, "a list of strings") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(key, value, "a list of strings")
        if item is not None:
            bad = [v for v in value if not item(v)]
            if bad:
                raise self._error(key, value, f"every item {what} (bad: {', '.join(bad)})")
        return list(value)

    def optional_string(self, key: str) -> str | None:
        value = self._raw(key)
        return str(value) if value not in (None, "") else None


def reject_undeclared_keys(config: pulumi.Config | None = None) -> None:
    """Fail on project keys that Pulumi.yaml does not declare (a typo would otherwise be ignored)."""
    config = config or pulumi.Config()
    prefix = config.full_key("")
    declared = declared_config()
    set_keys = [k[len(prefix) :] for k in _all_config_keys() if k.startswith(prefix)]
    for key in sorted(set_keys):
        if key not in declared:
            close = difflib.get_close_matches(key, declared, n=1)
            hint = f"did you mean '{prefix}{close[0]}'? " if close else ""
            raise ConfigError(prefix + key, config.get(key), hint + "keys are declared in Pulumi.yaml")


def _all_config_keys() -> list[str]:
    # The SDK offers no public way to list config keys; the language host fills this mapping from
    # the engine's RunRequest (and the mock runner from the stack file), so it is complete in both.
    from pulumi.runtime.config import CONFIG

    return list(CONFIG.get().keys())


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.IPv4Network(value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# Settings objects
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExistingVpc:
    """An adopted VPC: the program creates no VPC, subnets, gateways or routes."""

    vpc_id: str
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    isolated_subnet_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """Shape of the VPC (or of the adopted one)."""

    cidr: str
    az_count: int
    nat_gateways: NatGatewayMode
    vpc_endpoints: bool
    flow_logs: bool
    existing: ExistingVpc | None


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Everything the program needs to know about this stack, validated."""

    project: str
    stack: str
    environment: Environment
    log_retention_days: int
    deletion_protection: bool
    network: NetworkSettings

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def _read_network(read: ConfigReader) -> NetworkSettings:
    cidr = read.string("vpcCidr")
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "an IPv4 CIDR such as 10.0.0.0/16") from None
    if not 16 <= network.prefixlen <= 22:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "a prefix length from /16 to /22")
    if not network.is_private:
        raise ConfigError(read.qualified("vpcCidr"), cidr, "a private (RFC 1918) range")

    az_count = read.integer("azCount", minimum=2, maximum=6)
    nat_gateways = cast("NatGatewayMode", read.choice("natGateways", get_args(NatGatewayMode)))

    existing_vpc_id = read.optional_string("existingVpcId")
    subnets = {
        key: read.string_list(key, item=lambda s: s.startswith("subnet-"), what="a subnet ID (subnet-...)")
        for key in ("existingPublicSubnetIds", "existingPrivateSubnetIds", "existingIsolatedSubnetIds")
    }
    existing: ExistingVpc | None = None
    if existing_vpc_id is None:
        for key, ids in subnets.items():
            if ids:
                raise ConfigError(read.qualified(key), ids, "empty unless existingVpcId is set")
    else:
        if not existing_vpc_id.startswith("vpc-"):
            raise ConfigError(read.qualified("existingVpcId"), existing_vpc_id, "a VPC ID (vpc-...)")
        for key, ids in subnets.items():
            if len(ids) != az_count:
                raise ConfigError(read.qualified(key), ids, f"exactly azCount ({az_count}) subnet IDs, one per AZ")
        existing = ExistingVpc(
            vpc_id=existing_vpc_id,
            public_subnet_ids=tuple(subnets["existingPublicSubnetIds"]),
            private_subnet_ids=tuple(subnets["existingPrivateSubnetIds"]),
            isolated_subnet_ids=tuple(subnets["existingIsolatedSubnetIds"]),
        )

    return NetworkSettings(
        cidr=cidr,
        az_count=az_count,
        nat_gateways=nat_gateways,
        vpc_endpoints=read.boolean("vpcEndpoints"),
        flow_logs=read.boolean("flowLogs"),
        existing=existing,
    )


def load_settings(config: pulumi.Config | None = None) -> StackSettings:
    """Read and validate every project key; raises ConfigError before anything is registered."""
    config = config or pulumi.Config()
    reject_undeclared_keys(config)
    read = ConfigReader(config)
    return StackSettings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        environment=cast("Environment", read.choice("environment", get_args(Environment))),
        log_retention_days=read.integer_in("logRetentionDays", LOG_RETENTION_DAYS),
        deletion_protection=read.boolean("deletionProtection"),
        network=_read_network(read),
    )
