"""Every package of the repository is installed (the `cadenza` console script runs outside the checkout)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_INSTALLED = {"tests", "benchmarks", "migrations"}


def test_every_top_level_package_is_in_the_install_list():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - NOT_INSTALLED
    missing = sorted(p for p in packages if not any(fnmatch(p, pattern) for pattern in include))
    assert not missing, f"add to [tool.setuptools.packages.find] include in pyproject.toml: {missing}"
