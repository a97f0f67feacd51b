"""Load N deterministic products with stock and reviews, idempotently.

Usage: `python -m catalog.seed --products 1000` (or `catalog seed --products 1000` in the image).

Product i always gets sku SKU-<i, 8 digits> and the same name, category, price, stock and reviews,
and rows are inserted with ON CONFLICT (sku) DO NOTHING (children only for rows inserted now), so
running it again, or with a larger N, adds only what is missing. Migrations run first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass

import asyncpg

from catalog.db import connect
from catalog.migrate import migrate
from catalog.settings import Settings, SettingsError, load_settings

CATEGORIES = [
    ("electronics", "Electronics"),
    ("books", "Books"),
    ("home-kitchen", "Home & Kitchen"),
    ("garden", "Garden"),
    ("toys", "Toys"),
    ("sports", "Sports"),
    ("outdoors", "Outdoors"),
    ("beauty", "Beauty"),
    ("health", "Health"),
    ("grocery", "Grocery"),
    ("pet-supplies", "Pet Supplies"),
    ("automotive", "Automotive"),
    ("tools", "Tools"),
    ("office", "Office"),
    ("music", "Music"),
    ("movies", "Movies"),
    ("games", "Games"),
    ("clothing", "Clothing"),
    ("shoes", "Shoes"),
    ("jewelry", "Jewelry"),
]
BATCH = 20_000

_SEED_PRODUCTS = """
WITH cats AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM categories
), ins AS (
    INSERT INTO products (sku, name, description, category_id, price_cents, currency)
    SELECT 'SKU-' || lpad(g::text, 8, '0'),
           (ARRAY['Compact', 'Deluxe', 'Eco', 'Classic', 'Smart', 'Ultra', 'Pro', 'Mini'])[1 + g % 8]
           || ' ' ||
           (ARRAY['Widget', 'Lamp', 'Kettle', 'Backpack', 'Speaker', 'Notebook', 'Drill', 'Blender', 'Chair',
                  'Camera'])[1 + (g / 8) % 10] || ' ' || g,
           'Seeded product number ' || g || '.',
           cats.ids[1 + g % array_length(cats.ids, 1)],
           100 + (g * 7919) % 99900,
           'USD'
    FROM generate_series($1::bigint, $2::bigint) AS g, cats
    ON CONFLICT (sku) DO NOTHING
    RETURNING id, sku
), inv AS (
    INSERT INTO inventory (product_id, warehouse, quantity)
    SELECT ins.id, w.code, abs(hashtext(ins.sku || w.code)) % 200
    FROM ins CROSS JOIN (VALUES ('FRA'), ('IAD'), ('SIN')) AS w (code)
    WHERE abs(hashtext(ins.sku || w.code)) % 4 <> 0
    RETURNING 1
), rev AS (
    INSERT INTO reviews (product_id, rating, body)
    SELECT ins.id, 1 + abs(hashtext(ins.sku || k::text)) % 5, 'Seeded review ' || k || '.'
    FROM ins CROSS JOIN LATERAL generate_series(1, abs(hashtext(ins.sku)) % ($3::int + 1)) AS k
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins) AS products,
       (SELECT count(*) FROM inv) AS inventory,
       (SELECT count(*) FROM rev) AS reviews
"""


@dataclass
class SeedResult:
    """Rows inserted by this run (0 everywhere when the data was already there)."""

    categories: int = 0
    products: int = 0
    inventory: int = 0
    reviews: int = 0
    seconds: float = 0.0


async def seed(conn: asyncpg.Connection, products: int, max_reviews: int = 8) -> SeedResult:
    """Migrate, then insert categories and products 1..`products` that are missing."""
    started = time.perf_counter()
    await migrate(conn)
    result = SeedResult()
    await conn.executemany(
        "INSERT INTO categories (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING", CATEGORIES
    )
    result.categories = await conn.fetchval("SELECT count(*) FROM categories")
    for start in range(1, products + 1, BATCH):
        end = min(products, start + BATCH - 1)
        async with conn.transaction():
            row = await conn.fetchrow(_SEED_PRODUCTS, start, end, max_reviews)
        assert row is not None
        result.products += row["products"]
        result.inventory += row["inventory"]
        result.reviews += row["reviews"]
    if result.products:
        await conn.execute("ANALYZE categories, products, inventory, reviews")
    result.seconds = round(time.perf_counter() - started, 3)
    return result


async def _run(settings: Settings, products: int, max_reviews: int) -> SeedResult:
    conn = await connect(settings)
    try:
        return await seed(conn, products, max_reviews)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m catalog.seed --products N`: prints what it inserted as JSON."""
    parser = argparse.ArgumentParser(prog="catalog seed", description=__doc__)
    parser.add_argument("--products", type=int, default=1000, help="seed products 1..N (default 1000)")
    parser.add_argument("--max-reviews", type=int, default=8, help="reviews per product, 0..N (default 8)")
    args = parser.parse_args(argv)
    if args.products < 0 or args.max_reviews < 0:
        parser.error("--products and --max-reviews must be >= 0")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = asyncio.run(_run(settings, args.products, args.max_reviews))
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
