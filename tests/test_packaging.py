"""The installed distribution holds everything the repository's folders hold.

Locally the code runs from an editable install, which finds any subpackage of a
mapped folder by its path; a wheel (what a Dataflow worker installs) holds only
the packages and data files pyproject.toml lists. A subpackage or data file
missing from those lists would pass every local test and fail on the workers,
so this compares the lists with the folders.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]


def package_folders() -> dict[str, Path]:
    """Every package on disk under the mapped folders, by its installed name."""
    found = {}
    for name, folder in SETUPTOOLS["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found[".".join([name, *relative.parts])] = init.parent
    return found


def test_every_package_on_disk_is_installed_and_nothing_generic_is():
    assert sorted(SETUPTOOLS["packages"]) == sorted(package_folders())
    assert all(name.startswith("voc.") for name in SETUPTOOLS["packages"])


def _matches(relative: str, pattern: str) -> bool:
    # setuptools globs: "**/" may also match no folder at all.
    return fnmatch.fnmatch(relative, pattern) or (
        pattern.startswith("**/") and fnmatch.fnmatch(relative, pattern[3:])
    )


def test_every_data_file_is_package_data():
    packages = package_folders()
    missing = []
    for name, folder in packages.items():
        patterns = SETUPTOOLS["package-data"].get(name, [])
        for path in folder.rglob("*"):
            owner = next(
                p for p in [path.parent, *path.parent.parents] if (p / "__init__.py").exists()
            )
            if (
                not path.is_file()
                or path.suffix in {".py", ".pyc"}
                or "__pycache__" in path.parts
                or owner != folder
            ):
                continue
            relative = path.relative_to(folder).as_posix()
            if not any(_matches(relative, pattern) for pattern in patterns):
                missing.append(f"{name}: {relative}")
    assert missing == []
