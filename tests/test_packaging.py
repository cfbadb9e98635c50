"""The package list in pyproject.toml is explicit (migrations ship from the top-level folder):
every package under service/ must be in it, or a regular install would miss it."""

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_service_package_is_listed_for_installation() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "service").rglob("__init__.py")}

    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"service.migrations", "service.migrations.versions"}


def test_the_wheel_builds_without_warnings_and_ships_the_migrations(tmp_path: Path) -> None:
    built = subprocess.run(  # noqa: S603 - the build a user's installer runs
        [sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert built.returncode == 0, built.stdout + built.stderr
    assert "is absent from the `packages` configuration" not in built.stdout + built.stderr
    [wheel] = tmp_path.glob("postmortems-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "service/migrations/env.py" in names
    assert "service/migrations/script.py.mako" in names
    versions = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    assert versions
    assert {f"service/migrations/versions/{path.name}" for path in versions} <= set(names)
