"""Which function answers which resource type and which invoke: one answer per token, one module per service.

A provider module registers its answers with ``@outputs("aws:ec2/vpc:Vpc")`` (a function returning
``(id, extra_outputs)``) and ``@invoke("aws:ec2/getVpc:getVpc")``. The modules live under
``mockcloud/providers/<package>/<module>.py``, named after the token they answer
(``aws:ec2/...`` -> ``providers/aws/ec2.py``), so the answer for a type is found from the type alone.
Registering a token twice is an error: with a plain dict the later module would silently replace the
earlier one, and which one wins would depend on import order.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from mockcloud.cloud import Cloud

Outputs = dict[str, Any]
OutputMaker = Callable[[Cloud, str, dict[str, Any]], tuple[str, Outputs]]
"""``(cloud, logical name, camelCase inputs) -> (physical ID, outputs beyond the inputs)``."""
InvokeAnswer = Callable[[Cloud, dict[str, Any]], dict[str, Any]]
"""``(cloud, camelCase args) -> camelCase result``."""

PROVIDERS_PACKAGE: Final = "mockcloud.providers"

F = TypeVar("F", bound=Callable[..., Any])


class DuplicateRegistrationError(RuntimeError):
    """Two functions claim to answer the same resource type or invoke token."""


class InvokeFailed(Exception):  # noqa: N818 (named for what the engine reports, as the provider does)
    """An invoke answer's refusal (no such zone, say): the engine reports it to the program as a failed
    invoke (``ResourceInvokeResponse.failures``), which the program may catch, not as a broken RPC."""


@dataclass(frozen=True)
class Registration(Generic[F]):
    token: str
    answer: F

    @property
    def origin(self) -> str:
        """``module.function`` that registered the answer."""
        return f"{self.answer.__module__}.{self.answer.__qualname__}"


class Registry(Generic[F]):
    """Token -> the one function that answers it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Registration[F]] = {}

    def add(self, token: str, answer: F) -> None:
        existing = self._entries.get(token)
        if existing is not None:
            raise DuplicateRegistrationError(
                f"{self.kind} {token!r} is answered twice: by {existing.origin} and by "
                f"{Registration(token, answer).origin}; keep one"
            )
        self._entries[token] = Registration(token, answer)

    def get(self, token: str) -> F | None:
        entry = self._entries.get(token)
        return entry.answer if entry is not None else None

    def __iter__(self) -> Iterator[Registration[F]]:
        return iter(sorted(self._entries.values(), key=lambda r: r.token))

    def __len__(self) -> int:
        return len(self._entries)

    def decorator(self, *tokens: str) -> Callable[[F], F]:
        def register(answer: F) -> F:
            for token in tokens:
                self.add(token, answer)
            return answer

        return register


RESOURCE_OUTPUTS: Final[Registry[OutputMaker]] = Registry("resource type")
INVOKE_ANSWERS: Final[Registry[InvokeAnswer]] = Registry("invoke")


def outputs(*types: str) -> Callable[[OutputMaker], OutputMaker]:
    """Register the function answering ``new_resource`` for these resource types."""
    return RESOURCE_OUTPUTS.decorator(*types)


def invoke(*tokens: str) -> Callable[[InvokeAnswer], InvokeAnswer]:
    """Register the function answering ``call`` for these invoke tokens."""
    return INVOKE_ANSWERS.decorator(*tokens)


def module_for(token: str) -> str:
    """Where a token's answer belongs: ``aws:ec2/vpc:Vpc`` -> ``mockcloud.providers.aws.ec2``."""
    package, rest = token.split(":", 1)
    return f"{PROVIDERS_PACKAGE}.{package}.{rest.split('/', 1)[0].split(':', 1)[0]}"


def load_all() -> None:
    """Import every provider module once, which registers its answers (a new module only needs to exist)."""
    package = importlib.import_module(PROVIDERS_PACKAGE)
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{PROVIDERS_PACKAGE}."):
        importlib.import_module(module.name)
