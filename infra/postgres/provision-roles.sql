-- What `npm run provision` does in PostgreSQL (scripts/provision-stores.ts), for docker compose's
-- one-shot `provision-postgres` step, which has psql but not the platform's scripts: each service's
-- role (no superuser, no CREATEDB/CREATEROLE) owns its database and everything in it, and CONNECT
-- is revoked from PUBLIC. Safe to run again. psql variables: users_password, listings_password,
-- stocks_password, orders_password, notifications_password.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN', role)
  FROM unnest(ARRAY['users', 'listings', 'stocks', 'orders', 'notifications']) AS role
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) \gexec

ALTER ROLE users WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'users_password';
ALTER ROLE listings WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'listings_password';
ALTER ROLE stocks WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'stocks_password';
ALTER ROLE orders WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'orders_password';
ALTER ROLE notifications WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'notifications_password';

SELECT format('CREATE DATABASE %I OWNER %I', name, name)
  FROM unnest(ARRAY['users', 'listings', 'stocks', 'orders', 'notifications']) AS name
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \gexec

SELECT format('ALTER DATABASE %1$I OWNER TO %1$I', name),
       format('REVOKE ALL ON DATABASE %1$I FROM PUBLIC', name),
       format('GRANT CONNECT, TEMPORARY ON DATABASE %1$I TO %1$I', name)
  FROM unnest(ARRAY['users', 'listings', 'stocks', 'orders', 'notifications']) AS name \gexec

-- What an earlier run as postgres made in each database goes to the role, so its migrations can change it.
\connect users
\set role users
\ir provision-ownership.sql
\connect listings
\set role listings
\ir provision-ownership.sql
\connect stocks
\set role stocks
\ir provision-ownership.sql
\connect orders
\set role orders
\ir provision-ownership.sql
\connect notifications
\set role notifications
\ir provision-ownership.sql
