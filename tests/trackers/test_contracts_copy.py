"""The contracts the fakes enforce are a copy of the shared ones; this fails when they drift apart.

The full Jira description (2.4 MB) is not copied: the self-contained extract of it is.
"""

from pathlib import Path

import pytest

from tests.contracts.paths import CONTRACTS

SHARED = CONTRACTS.parent.parent.parent / "shared" / "contracts"
NOT_COPIED = {Path("jira/swagger-v3.v3.json")}


def _files(root: Path) -> dict[Path, bytes]:
    return {
        path.relative_to(root): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc")
    }


def test_the_copied_contracts_match_the_shared_ones() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no shared contracts beside the repository ({SHARED})")
    shared = {path: data for path, data in _files(SHARED).items() if path not in NOT_COPIED}
    copied = _files(CONTRACTS)

    assert sorted(set(shared) ^ set(copied), key=str) == []
    assert [str(path) for path in shared if shared[path] != copied[path]] == []
