-- The transactional outbox of cache invalidations: every product write inserts one row, in its own
-- transaction, naming the logical cache keys it changed; the row is deleted once those keys have
-- been deleted from the cache (by the writer, or by any task's drain if the writer could not).
CREATE TABLE cache_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The cache key prefix (CACHE_KEY_PREFIX) the keys live under: one database may serve several.
    namespace  text NOT NULL,
    keys       text[] NOT NULL CHECK (cardinality(keys) > 0),
    -- clock_timestamp(), not now(): the insert is the transaction's last statement, so this is
    -- close to the commit even when the transaction waited for a row lock.
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cache_outbox_namespace_id_idx ON cache_outbox (namespace, id);
