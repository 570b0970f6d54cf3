"""The ``oppcore`` command, run as a user runs it (a subprocess)."""

import subprocess
import sys

import oppcore


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oppcore", *args], capture_output=True,
                          text=True, timeout=120)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"oppcore {oppcore.__version__}"


def test_no_command_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: oppcore" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_demo_help_shows_an_example() -> None:
    result = run("demo", "--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout and "oppcore demo" in result.stdout
