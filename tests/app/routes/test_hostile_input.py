"""Hostile input against the real server: every endpoint of the OpenAPI document, no 5xx, nothing written,
and /healthz answering within 1 s throughout (measured from another connection while it runs).

Shapes: non-finite numbers (NaN, Infinity, -Infinity), huge numbers (1e400, a 5,000-digit integer),
lone surrogates, deeply nested and very wide objects, bodies over the size limit (declared and
streamed without a length), and loose path ids (+1, " 1", 1.0, 1_0, non-ASCII digits, 30 digits).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from catalog.app import create_app
from catalog.settings import load_settings

from tests.app.helpers import PG_HOST, PG_PORT, admin_sql, create_seeded_database, delete_prefix
from tests.app.live import LiveServer

LIMIT = 128 * 1024
LOOSE_IDS = ["+1", "%201", "1.0", "1_0", "%D9%A3", "1e3", "0x1", "-1", "9" * 30, "1%00"]
STRINGS = "\\ud800"  # a lone surrogate, as JSON text


def hostile_bodies() -> dict[str, bytes]:
    """Named raw bodies, each sent as application/json."""
    return {
        "nan": b'{"sku": "OK-1", "name": "x", "category_id": NaN, "price_cents": 1}',
        "infinity": b'{"sku": "OK-1", "name": "x", "category_id": 1, "price_cents": Infinity, "rating": -Infinity}',
        "1e400": b'{"sku": "OK-1", "name": "x", "category_id": 1, "price_cents": 1e400, "rating": 1e400}',
        "5000 digits": b'{"category_id": 1, "price_cents": ' + b"9" * 5000 + b', "rating": 1, "top": 1}',
        "lone surrogate": (
            '{"sku": "OK-1", "name": "%s", "description": "%s", "category_id": 1, "price_cents": 1, '
            '"stock": {"%s": 1}, "body": "%s", "rating": 1, "key": "%s", "prefix": "%s"}' % ((STRINGS,) * 6)
        ).encode(),
        "surrogate key": ('{"' + STRINGS + '": 1}').encode(),
        "deeply nested": b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "very wide": b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(10_000)) + b"}",
        "wide stock": b'{"name": "x", "stock": {' + b",".join(b'"W%05d": 1' % i for i in range(9_000)) + b"}}",
        "huge": b'{"name": "' + b"x" * (2 * LIMIT) + b'"}',
        "not an object": b"[1, 2, 3]",
    }


def fill_path(path: str, value: str) -> str:
    return path.replace("{product_id}", value).replace("{category_id}", value)


class HealthWatch:
    """Polls /healthz on its own connection every 20 ms in a thread; records the worst latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self.polls = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.TransportError:
                    ok = False
                self.worst = max(self.worst, time.perf_counter() - started)
                self.polls += 1
                self.failures += not ok
                self._stop.wait(0.02)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)


async def fingerprint(database: str) -> tuple[Any, ...]:
    """Everything a write could change, in one row."""
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database=database)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM products), (SELECT sum(version) FROM products),"
            " (SELECT count(*) FROM reviews), (SELECT count(*) FROM inventory),"
            " (SELECT sum(quantity) FROM inventory), (SELECT max(updated_at) FROM products)"
        )
        return tuple(row)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[tuple[LiveServer, str]]:
    database = f"catalog_hostile_{secrets.token_hex(4)}"
    prefix = f"cathostile:{secrets.token_hex(5)}:"
    asyncio.run(create_seeded_database(database, products=40))
    server = LiveServer({"DATABASE_NAME": database, "CACHE_KEY_PREFIX": prefix, "LOG_LEVEL": "WARNING"})
    try:
        yield server.start(), database
    finally:
        server.close()
        delete_prefix(prefix)
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def test_hostile_input_on_every_endpoint(hostile_server: tuple[LiveServer, str]) -> None:
    server, database = hostile_server
    paths = create_app(load_settings({})).openapi()["paths"]
    before = asyncio.run(fingerprint(database))
    counts: dict[str, Counter[str]] = {}
    unexpected: list[str] = []

    def record(name: str, response: httpx.Response, *, refused: bool = True) -> None:
        tally = counts.setdefault(name, Counter())
        tally["requests"] += 1
        tally[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500 or (refused and response.status_code < 400):
            unexpected.append(f"{name}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            response.json()  # every refusal is a JSON body (nothing unencodable echoed)

    with HealthWatch(server.url) as watch, httpx.Client(base_url=server.url, timeout=60) as client:
        for path, operations in paths.items():
            for method in operations:
                name = f"{method.upper()} {path}"
                has_id = "{" in path
                # Every endpoint also gets junk query parameters and a NaN body; those without inputs
                # ignore both (200), the others refuse them.
                junk = client.request(
                    method,
                    fill_path(path, "999999999") + "?limit=NaN&x=%ED%A0%80&category=%2B1",  # no such row
                    content=b'{"x": NaN}',
                    headers={"content-type": "application/json"},
                )
                record(name, junk, refused=method in ("post", "patch") or path == "/api/products")
                if has_id:
                    for loose in LOOSE_IDS:
                        record(name, client.request(method, fill_path(path, loose)))
                if method in ("post", "patch"):
                    for body in hostile_bodies().values():
                        response = client.request(
                            method, fill_path(path, "1"), content=body, headers={"content-type": "application/json"}
                        )
                        record(name, response)
                    # No Content-Length: the limit must cut a streamed body off too.
                    chunks = (b'{"name": "' + b"x" * 65536 for _ in range(2 * LIMIT // 65536 + 2))
                    response = client.request(
                        method, fill_path(path, "1"), content=chunks, headers={"content-type": "application/json"}
                    )
                    record(name, response)
                    assert response.status_code == 413, response.text
                if method == "get" and path == "/api/products":
                    for query in ("limit=1e3", "limit=NaN", "category=%2B1", "cursor=%ED%A0%80", "limit=" + "9" * 50):
                        record(name, client.get(f"{path}?{query}"))
    after = asyncio.run(fingerprint(database))

    print("\nhostile input, per endpoint: requests / 4xx / 5xx")
    for name, tally in sorted(counts.items()):
        print(f"  {name:<45} {tally['requests']:>4} {tally['4xx']:>4} {tally['5xx']:>4}")
    print(f"  /healthz polls {watch.polls}, failures {watch.failures}, worst latency {1000 * watch.worst:.1f} ms")
    assert unexpected == []
    assert sum(t["5xx"] for t in counts.values()) == 0
    assert after == before  # nothing written
    assert watch.polls >= 2
    assert watch.failures == 0
    assert watch.worst < 1.0
    assert set(counts) == {f"{m.upper()} {p}" for p, ops in paths.items() for m in ops}  # every endpoint


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"rating": NaN}', "NaN is not JSON"),
        (b'{"rating": 1e400}', "too large"),
        (b'{"rating": ' + b"1" * 5000 + b"}", "JSON decode error"),
        (b'{"rating": 1, "body": "\\ud800"}', "no lone surrogates"),
        (b'{"rating": 1, "\\ud800": 1}', "string_unicode"),
        (b'{"rating": 1, "body": "\xed\xa0\x80"}', "JSON decode error"),  # a surrogate as raw bytes: not UTF-8
    ],
)
def test_refusals_name_the_problem_without_echoing_it(
    hostile_server: tuple[LiveServer, str], body: bytes, needle: str
) -> None:
    server, _ = hostile_server
    response = httpx.post(
        f"{server.url}/api/products/1/reviews", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert needle in response.text
    assert "input" not in response.json()["detail"][0]


def test_the_error_list_is_bounded(hostile_server: tuple[LiveServer, str]) -> None:
    server, _ = hostile_server
    body = b"{" + b",".join(b'"k%d": 1' % i for i in range(5000)) + b"}"
    response = httpx.post(f"{server.url}/api/products", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 20
    assert response.json()["more_errors"] > 4000
    assert len(response.content) < 10_000


@pytest.mark.parametrize("loose", LOOSE_IDS)
def test_path_ids_are_strictly_decimal(hostile_server: tuple[LiveServer, str], loose: str) -> None:
    server, _ = hostile_server
    for path in ("/api/products/{}", "/api/categories/{}/summary"):
        response = httpx.get(server.url + path.format(loose))
        assert response.status_code in (404, 422), (path, loose, response.status_code)
        assert response.status_code == 422 or loose in ("%201",), (path, loose)
