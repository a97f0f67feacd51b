-- The app's own login for IAM database authentication (DATABASE_AUTH=iam), named by the migration
-- parameter catalog.app_user (DATABASE_APP_USER; migrate.py sets it for this transaction only). Without
-- the parameter nothing is created. Idempotent, because migrate.py runs it again whenever the
-- configured login lacks it in this database (IAM switched on later, DATABASE_APP_USER renamed).
DO $$
DECLARE
    app_user text := nullif(current_setting('catalog.app_user', true), '');
BEGIN
    IF app_user IS NULL THEN
        RAISE NOTICE 'catalog.app_user is not set: no app login created';
        RETURN;
    END IF;
    -- On RDS, members of rds_iam log in with IAM tokens only (no password). A local PostgreSQL has no
    -- such role: a NOLOGIN stand-in keeps this migration and the grant the same everywhere.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        BEGIN
            CREATE ROLE rds_iam NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- roles are cluster-wide: another database's migration created it meanwhile
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_user) THEN
        BEGIN
            -- No password: with rds_iam the token is the only way in.
            EXECUTE format('CREATE ROLE %I LOGIN', app_user);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    EXECUTE format('GRANT rds_iam TO %I', app_user);
    -- Reads and writes rows, nothing else: no DDL, no ownership; the migration history read-only.
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), app_user);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_user);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app_user);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM %I', app_user);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app_user);
    -- Tables and sequences that later migrations create (as this same owner) are granted as well.
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', app_user
    );
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', app_user);
END
$$;
