"""A PostgreSQL address is shown in lines and logs without its password, however it is
written: in the user part, with characters a URL parser misreads, or as an option."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db.postgres.connections import redacted
from tests.processes import run_main

SECRET = "hunter2"
ADDRESSES = [
    f"postgresql://taketwo:{SECRET}@127.0.0.1:1/taketwo",
    f"postgresql://taketwo@127.0.0.1:1/taketwo?password={SECRET}",
    f"postgresql://taketwo:pa/ss{SECRET}@127.0.0.1:1/taketwo",
    f"postgresql://taketwo:p@ss:{SECRET}@127.0.0.1:1/taketwo",
    f"postgres://taketwo:p#{SECRET}@127.0.0.1:1/taketwo",
    f"postgresql://taketwo:{SECRET}@127.0.0.1:notaport/taketwo",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_password_is_in_no_line_a_command_prints(tmp_path: Path, address: str) -> None:
    assert SECRET not in redacted(address)
    result = run_main(tmp_path, "catalog", "export", "out.json", DATABASE_URL=address)
    assert result.returncode in (3, 4), result.stderr
    assert "taketwo" in result.stderr and SECRET not in result.stderr + result.stdout
