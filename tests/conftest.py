"""Shared test configuration: hypothesis profiles sized for a 2-core CI machine, and the
fixtures more than one test module needs (test modules never import each other)."""

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# "ci": no deadline (shared 2-core runners have noisy timing), a moderate example count.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# --------------------------------------------------------------------------- plugins


def _install_example_plugin(site: Path) -> None:
    """Install the example plugin into ``site`` the way an installer lays it out.

    Offline and without a build backend (the test machine has no ``wheel``), we copy the
    package and write the ``.dist-info`` metadata an installer writes: ``METADATA`` with the
    name and version, ``entry_points.txt`` with the groups from ``pyproject.toml``, and
    ``RECORD``. ``importlib.metadata`` then finds it exactly as it finds an installed wheel.
    """
    plugin = ROOT / "examples" / "scoring_plugin"
    meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    shutil.copytree(plugin / "src" / "oppcore_scoring_example",
                    site / "oppcore_scoring_example")
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
        f"Summary: {meta['description']}\n")
    lines = []
    for group, entries in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (dist / "INSTALLER").write_text("oppcore-test\n")
    files = [p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()]
    (dist / "RECORD").write_text("".join(f"{f},,\n" for f in files))


@pytest.fixture(scope="session")
def install_example_plugin() -> Callable[[Path], None]:
    """Return ``install(site)``: lays the example scoring plugin out in a site directory."""
    return _install_example_plugin
