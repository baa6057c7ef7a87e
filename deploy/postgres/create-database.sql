-- boilerd's role and database. Run as a superuser, with the password passed as a psql variable:
--   psql -v password="$BOILERD_DATABASE_PASSWORD" -v database=boiler -f deploy/postgres/create-database.sql
-- boilerd's role owns its database and its tables (created by boilerd's migrations), nothing else: it is no
-- superuser and cannot create roles or other databases.
CREATE ROLE boilerd LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"database" OWNER boilerd;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
\connect :"database"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO boilerd;
