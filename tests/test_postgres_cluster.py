"""The tests' PostgreSQL server is real, private and throwaway: it answers on 127.0.0.1,
listens nowhere else, runs with fsync off, and each test gets a database of its own."""

from __future__ import annotations

import asyncpg

from tests.postgres import Cluster


async def test_each_test_gets_an_empty_database_on_a_loopback_only_server(
    postgres_cluster: Cluster, postgres_url: str
) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
        assert await conn.fetchval("SHOW fsync") == "off"
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables == []
        await conn.execute("CREATE TABLE mine (x int)")  # and it is writable
    finally:
        await conn.close()
    assert postgres_url != postgres_cluster.url()
