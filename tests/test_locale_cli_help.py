"""The command's help and argparse's own words in zh-CN; English help exactly as before."""

import argparse
import contextlib
import io
import re
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract
from hypothesis import given
from hypothesis import strategies as st

from _prose import english_lines
from oppcore._cli import build_parser, main
from oppcore._cli._language import ARGPARSE_MESSAGES, argparse_speaks, requested_locale
from oppcore._report._format import width
from oppcore.locale import translation, use

FIXTURES = Path(__file__).parent / "fixtures" / "cli_help"
CJK = re.compile(r"[\u4e00-\u9fff]")
COLUMNS = 80


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
              ) -> list[tuple[str, ...]]:
    """Every command path of the parser (``()``, ``("demo",)``, ``("db", "upgrade")``...),
    found by walking it, so a new subcommand is checked without editing this test."""
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(_commands(sub, (*path, name)))
    return found


COMMANDS = _commands(build_parser())

# What a Chinese help text shows as typed: command names, choices, option names.
_TYPED = frozenset(
    word for path in COMMANDS for word in path
) | frozenset({"store", "export", "text", "json", "csv", "weekends", "salesforce", "hubspot",
               "odoo", "pipedrive", "zoho", "maven", "simple", "standard", "extends", "sql",
               "import", "sync", "gb18030", "cp1252", "html", "tsv", "txt", "xlsx", "jsonl",
               "postgresql", "psycopg", "app", "db", "crm", "mermaid"})


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    monkeypatch.delenv("OPPCORE_LOCALE", raising=False)


def test_the_walk_finds_every_command() -> None:
    assert len(COMMANDS) == 13
    assert ("db", "upgrade") in COMMANDS and ("mapping", "show") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "oppcore")
def test_the_zh_cn_help_of_every_command_is_chinese(path: tuple[str, ...]) -> None:
    code, out, err = run("--locale", "zh-CN", *path, "--help")
    assert code == 0 and not err
    assert out.startswith("用法：oppcore")
    assert "选项" in out and "显示本帮助信息并退出" in out
    assert english_lines(out, _TYPED) == []
    assert not re.search(r"\b(usage|options|positional arguments|show this help)\b", out)
    # Laid out for wide characters: every line but the usage fits the terminal.
    body = out.split("\n\n", 1)[1]
    assert all(width(line) <= COLUMNS for line in body.splitlines()), body


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "oppcore")
def test_the_environment_variable_gives_the_same_help(
        path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    flag = run("--locale", "zh-CN", *path, "--help")
    monkeypatch.setenv("OPPCORE_LOCALE", "zh_CN.UTF-8")
    assert run(*path, "--help") == flag
    assert run("--loc=zh-CN", *path, "--help") == flag  # an abbreviation, as argparse takes
    assert CJK.search(flag[1])


def test_the_english_help_is_unchanged() -> None:
    # Recorded before the help became translatable (COLUMNS=100).
    expected = (FIXTURES / "en.txt").read_text("utf-8").split("\n$ oppcore ")
    for block in expected:
        command_line, help_text = block.removeprefix("$ oppcore ").split("\n", 1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("COLUMNS", "100")
            code, out, _ = run(*command_line.split())
        assert code == 0
        assert out == help_text, command_line
        assert not CJK.search(out)
        assert english_lines(out, _TYPED)  # the check sees English where there is some


@pytest.mark.parametrize(("args", "english", "chinese"), [
    (("score",), "the following arguments are required: --db", "缺少必需的参数：--db"),
    (("report", "--db", "x", "--format", "xml"), "invalid choice: 'xml'",
     "无效的取值：'xml'"),
    (("dedupe", "--db", "x", "--threshold", "2"), "expected a number from 0 to 1",
     "应为 0 到 1 之间的数"),
    (("dedupe", "--db", "x", "--top", "many"), "invalid int value: 'many'",
     "无效的 int 值：'many'"),
    (("dedupe", "--db", "x", "--bogus"), "unrecognized arguments: --bogus",
     "无法识别的参数：--bogus"),
    (("report", "--db"), "expected one argument", "需要一个参数"),
    (("nope",), "invalid choice: 'nope'", "无效的取值：'nope'"),
])
def test_usage_errors_speak_the_locale(args: tuple[str, ...], english: str,
                                       chinese: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and not out and english in err and "usage:" in err
    code, out, err = run("--locale", "zh-CN", *args)
    assert code == 2 and not out
    assert chinese in err and "用法：" in err and "：错误：" in err
    assert english_lines(err, _TYPED) == []


def test_our_own_errors_speak_the_locale(tmp_path: Path) -> None:
    code, _, err = run("--locale", "zh-CN", "report", "--db", str(tmp_path / "none.db"))
    assert code == 2 and err.startswith("oppcore：错误：找不到数据库")


# --- the pre-scan agrees with the parser --------------------------------------------------

_TOKENS = st.sampled_from(["--locale", "--locale=zh-CN", "--loc", "--locale=en", "zh-CN",
                           "en", "--version", "dedupe", "--db", "x.db", "--top", "3",
                           "--", "pipeline", "show", "standard"])


@given(st.lists(_TOKENS, max_size=7))
def test_the_pre_scan_reads_the_locale_the_parser_reads(argv: list[str]) -> None:
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            args = parser.parse_args(argv)
    except SystemExit:
        return  # argparse refuses (or --version): nothing to agree on
    assert requested_locale(argv, {}) == args.locale


def test_the_flag_wins_over_the_environment() -> None:
    env = {"OPPCORE_LOCALE": "zh-CN"}
    assert requested_locale(["--locale", "en", "demo"], env) == "en"
    assert requested_locale(["demo", "--locale", "en"], env) == "zh-CN"  # not an option here
    assert requested_locale(["demo"], {}) is None
    assert requested_locale(["--locale"], env) is None  # argparse reports the missing value


def test_a_bad_locale_is_reported_before_any_help() -> None:
    code, out, err = run("--locale", "fr", "--help")
    assert code == 2 and not out and "no text for locale 'fr'" in err


# --- argparse's own words --------------------------------------------------------------------

# argparse messages that only report a bug in the parser's own definition.
_PARSER_BUGS = frozenset({
    ".__call__() not defined", "conflicting subparser: %s", "conflicting subparser alias: %s",
    'argument "-" with mode %r', "can't open '%(filename)s': %(error)s",
    "cannot merge actions - two groups are named %r",
    "'required' is an invalid argument for positionals",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
    "dest= is required for options like %r", "invalid conflict_resolution value: %r",
    "conflicting option string: %s", "conflicting option strings: %s",
    "mutually exclusive arguments must be optional",
    "cannot have multiple subparser arguments", "%r is not callable",
})


def _argparse_messages() -> set[str]:
    with open(argparse.__file__, "rb") as source:
        found = extract("python", source, keywords={"_": None, "ngettext": (1, 2)})
        messages: set[str] = set()
        for _line, message, _comments, _context in found:
            messages.update([message] if isinstance(message, str) else message)
    return messages


def test_every_argparse_message_a_user_can_see_is_translated() -> None:
    messages = _argparse_messages()
    assert "usage: " in messages  # the extraction works on this Python
    missing = messages - set(ARGPARSE_MESSAGES) - _PARSER_BUGS
    assert not missing, f"argparse of this Python has new messages: add them: {missing}"
    catalog = translation("zh-CN")
    for message in ARGPARSE_MESSAGES:
        translated = catalog.gettext(message)
        assert translated != message
        assert sorted(re.findall(r"%(?:\(\w+\))?[sr]", translated)) == \
            sorted(re.findall(r"%(?:\(\w+\))?[sr]", message)), message


def test_argparse_outside_the_command_is_untouched() -> None:
    assert run("--locale", "zh-CN", "--help")[0] == 0  # the lookups are in place now
    plain = argparse.ArgumentParser(prog="host")
    with use("zh-CN"):  # a host's own parser, even in a zh-CN block
        assert "usage: host" in plain.format_help() and "options" in plain.format_help()
    seen: list[str] = []
    with use("zh-CN"), argparse_speaks():
        assert plain.format_usage().startswith("用法：")
        # Another thread does not share the command's context.
        thread = threading.Thread(target=lambda: seen.append(plain.format_usage()))
        thread.start()
        thread.join()
    assert seen == ["usage: host [-h]\n"]
