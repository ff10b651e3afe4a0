-- An application's own migration, applied by the application's own Flyway in the tests.
CREATE TABLE app_orders (id bigint PRIMARY KEY, status text NOT NULL);
