"""The ```python blocks in the docs run as written: one script per page, in a fresh process.

Each page's blocks run in order as one script, so a later block may use names an earlier
block defined (the way a reader works through the page). A block may opt out only with an
explicit MyST comment on the line right before its fence::

    % skip-test: needs the host's PostgreSQL database

and the reason must not be empty. Shell commands belong in ```bash blocks, which never run.

A page that shows a file the reader saves (a TOML configuration, say) names it with a MyST
comment right before that block::

    % file: scoring.toml

and the test writes the block, exactly as shown, into the page's working directory before its
code runs; so the file on the page is the file the code reads.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([*DOCS.glob("*.md"), *DOCS.glob("guides/*.md"), *DOCS.glob("explanation/*.md"),
                *DOCS.glob("zh-CN/*.md")])


TIMEOUT = 120  # seconds per step; the slowest page (the tutorial, with its demo) takes a few


Install = Callable[[Path], None]


def _run_demo(tmp: Path, env: dict[str, str], install: Install) -> None:
    """Run `oppcore demo --db demo.db`, as the tutorial's reader does first.

    In a subprocess, as the reader types it (and because the CLI cannot yet run the demo
    twice in one process: see test_cli.py::test_demo_runs_twice_in_one_process).
    """
    subprocess.run([sys.executable, "-m", "oppcore", "demo", "--db", "demo.db"], cwd=tmp,
                   env=env, capture_output=True, text=True, timeout=TIMEOUT, check=True)


def _install_example_plugin(tmp: Path, env: dict[str, str], install: Install) -> None:
    """Install the example scoring plugin, as the guide's `pip install` step does."""
    site = tmp / "site-packages"
    site.mkdir()
    install(site)  # the same offline installer test_plugins.py uses (no network, no wheel)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))


def _crm_exports(workdir: Path, env: dict[str, str], install: Install) -> None:
    # The page imports exports the reader has; small files of the same shapes stand in.
    fixtures = Path(__file__).resolve().parent / "fixtures" / "io"
    for target, source in (("sales_pipeline.csv", "maven_sample.csv"),
                           ("upload.csv", "maven_sample.csv"),
                           ("opportunities.csv", "salesforce_opportunities.csv")):
        shutil.copyfile(fixtures / source, workdir / target)


# What a reader does before a page's code runs (the ```bash / ```console steps of the page),
# done in the page's working directory; a step may add to the environment of the script.
SETUP: dict[str, Callable[[Path, dict[str, str], Install], None]] = {
    "tutorial.md": _run_demo,
    "guides/write-a-scoring-plugin.md": _install_example_plugin,
    "guides/import-your-crms-csv.md": _crm_exports,
}

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
SKIP = re.compile(r"^%\s*skip-test:(?P<reason>.*)$")
FILE = re.compile(r"^%\s*file:\s*(?P<name>\S+)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced ```python block of a page, and its skip reason if it opts out."""

    line: int
    code: str
    skip: str | None


def fenced(text: str) -> list[tuple[int, str, str, str]]:
    """Return the page's top-level fenced blocks as (line, info, code, line before the fence)."""
    found = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        end = i + 1
        while end < len(lines) and not (lines[end].startswith(fence)
                                        and not lines[end].strip(fence[0]).strip()):
            end += 1
        found.append((i + 1, info, "\n".join(lines[i + 1:end]) + "\n",
                      lines[i - 1].strip() if i else ""))
        i = end + 1
    return found


def python_blocks(text: str) -> list[Block]:
    """Return the page's ```python blocks in order, with any `% skip-test:` reason."""
    blocks = []
    for line, info, code, before in fenced(text):
        if info == "python":
            skip = SKIP.match(before)
            blocks.append(Block(line, code, skip["reason"].strip() if skip else None))
    return blocks


def page_files(text: str) -> dict[str, str]:
    """Return the files a page shows under a `% file: <name>` comment, by relative name."""
    files = {}
    for _, _, code, before in fenced(text):
        named = FILE.match(before)
        if named:
            files[named["name"]] = code
    return files


def script(page: Path, blocks: list[Block]) -> str:
    """Join the runnable blocks into one script; line markers say where each block came from."""
    return "\n".join(f"# --- {page_id(page)}, block at line {block.line} ---\n{block.code}"
                     for block in blocks if block.skip is None)


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def test_the_pages_with_code_are_collected() -> None:
    ids = {page_id(p) for p in PAGES}
    assert {"getting-started.md", "tutorial.md", "guides/score-your-pipeline.md"} <= ids
    assert set(SETUP) <= ids


def test_block_extraction_keeps_order_and_skip_reasons() -> None:
    text = ("x\n% file: conf/a.toml\n```toml\nk = 1\n```\n"
            "```python\na = 1\n```\n\n```bash\nrm -rf /\n```\n"
            "% skip-test: needs a host database\n```python\nconnect()\n```\n"
            "````md\n```python\nnot = 'a block'\n```\n````\n"
            "```python\nprint(a)\n```\n")
    blocks = python_blocks(text)
    assert [b.code for b in blocks] == ["a = 1\n", "connect()\n", "print(a)\n"]
    assert [b.skip for b in blocks] == [None, "needs a host database", None]
    assert page_files(text) == {"conf/a.toml": "k = 1\n"}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_skip_gives_a_reason_and_files_stay_local(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    reasons = {b.line: b.skip for b in python_blocks(text) if b.skip is not None}
    empty = sorted(line for line, reason in reasons.items() if not reason)
    assert not empty, f"{page_id(page)}: `% skip-test:` without a reason at lines {empty}"
    for name in page_files(text):  # files stay inside the page's working directory
        assert not Path(name).is_absolute() and ".." not in Path(name).parts, name


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_code_runs(page: Path, install_example_plugin: Install) -> None:
    name = page_id(page)
    text = page.read_text(encoding="utf-8")
    code = script(page, python_blocks(text))
    if not code:
        return  # no python block, or every one opts out with a reason (checked above)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        for file_name, content in page_files(text).items():
            target = Path(tmp) / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        if name in SETUP:
            SETUP[name](Path(tmp), env, install_example_plugin)
        (Path(tmp) / "snippets.py").write_text(code, encoding="utf-8")
        result = subprocess.run([sys.executable, "snippets.py"], cwd=tmp, env=env,
                                capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, (
        f"{name}: its python blocks fail when run in order\n{result.stderr[-3000:]}")
