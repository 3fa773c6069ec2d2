"""The PostgreSQL implementation of the data layer: for several bot processes sharing one
database. `postgres_database(url)` builds it as the `Database` the rest of the bot uses."""
