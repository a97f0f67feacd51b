-- Catalog schema: categories, products, per-warehouse inventory and reviews.
CREATE TABLE categories (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text NOT NULL UNIQUE CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{2,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    category_id integer NOT NULL REFERENCES categories (id),
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    currency    char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Incremented by every write; orders write-through cache puts and backs expected_version.
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination within a category, and the category summary's scan.
CREATE INDEX products_category_id_id_idx ON products (category_id, id);

CREATE TABLE inventory (
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse  text NOT NULL CHECK (warehouse ~ '^[A-Z]{3}[0-9]?$'),
    quantity   integer NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (product_id, warehouse)
);

CREATE TABLE reviews (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body       text NOT NULL DEFAULT '' CHECK (length(body) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_product_id_idx ON reviews (product_id);
