"""Reading resource properties the way pulumi-policy hands them over.

Properties arrive as read-only proxies with camelCase keys. Reading a value that is *unknown* at
``pulumi preview`` (an output of a resource that does not exist yet) raises ``UnknownValueError``,
and pulumi-policy turns that into an advisory note even for a mandatory policy. So checks read only
the values they decide on, and test whether a key is set without reading its value: the proxy's
``in`` and ``.get`` both read the value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError as UnknownValueError


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` has a value (possibly unknown at preview), without reading that value."""
    try:
        return props[key] is not None
    except UnknownValueError:
        return True  # set, to a value only known after the update
    except KeyError:
        return False


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A nested object, or an empty mapping when the property is absent."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> Sequence[Any]:
    """A list property, or an empty sequence when absent (a single object counts as one item)."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return []


def iter_mappings(value: Any) -> Iterator[Mapping[str, Any]]:
    """The objects in a list property (skipping anything that is not an object)."""
    for item in as_list(value):
        if isinstance(item, Mapping):
            yield item


def number(value: Any) -> float | None:
    """Numbers arrive as floats (JSON); strings of digits are accepted as well."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def json_document(value: Any) -> Any:
    """A JSON-typed input (IAM documents, provider config objects): parse strings, pass objects through."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def parse_json_property(props: Mapping[str, Any], key: str) -> Any:
    """Parse a property holding a JSON string (reading it raises at preview if it is unknown)."""
    return json_document(props[key])
