"""The bash grammar front end: words resolved as bash resolves them, commands found where
bash finds them, and every place where the grammar and bash could disagree refused."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ml_intern_tui.safety.shell_parse import parse_script
from ml_intern_tui.safety.shell_words import decode_ansi_c


def words_of(source: str) -> list[list[str | None]]:
    return [[w.value for w in c.words] for c in parse_script(source).commands]


# --------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("source", "commands"),
    [
        # finding 1: bash comments start at a word start and end at the end of the LINE
        ("ls # list files\ntouch ~/pwned", [["ls"], ["touch", "~/pwned"]]),
        ("ls a#; touch p", [["ls", "a#"], ["touch", "p"]]),
        ("ls #x;y\n\ntouch q", [["ls"], ["touch", "q"]]),
        ("echo ok #\\\ntouch r", [["echo", "ok"], ["touch", "r"]]),
        ("a && b || c | d; e &", [["a"], ["b"], ["c"], ["d"], ["e"]]),
        ("ls >out -la 2>&1 x", [["ls", "-la", "x"]]),  # words after a redirection are arguments
        ("cat <<EOF && rm x\nbody\nEOF", [["rm", "x"], ["cat"]]),
        ("echo $(rm -rf ~) `id`", [["rm", "-rf", "~"], ["id"], ["echo", None, None]]),
        ("f() { rm -rf /; }; f", [["rm", "-rf", "/"], ["f"]]),
        ("python3 - <<'EOF'\nprint(1)\nEOF", [["python3", "-"]]),  # the grammar drops '-'
    ],
)
def test_commands_are_found_where_bash_runs_them(source: str, commands: list[list[str]]) -> None:
    assert words_of(source) == commands


def test_pipeline_stages_after_the_first_read_a_pipe() -> None:
    script = parse_script("curl -s x | tee log | sh")
    assert [c.piped for c in script.commands] == [False, True, True]
    heredoc = parse_script("cat <<'EOF' | python\nimport os\nEOF")
    python = next(c for c in heredoc.commands if c.words[0].value == "python")
    assert python.piped


def test_background_and_nesting_are_recorded() -> None:
    script = parse_script("sleep 5 & ls")
    assert [c.background for c in script.commands] == [True, False]
    assert not script.plain and script.understood
    nested = parse_script("(cd /tmp && ls)")
    assert all(c.nested for c in nested.commands) and not nested.understood


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("X=1 ls", "sets environment variables"),
        ("ls &", "background"),
        ("(ls)", "subshell"),
        ("{ ls; }", "group"),
        ("! ls", "negates"),
        ("f() { ls; }", "function"),
        ("if true; then ls; fi", "control flow"),
        ("for i in a; do ls; done", "loop"),
        ("ls $HOME", "expands $HOME"),
        ('ls "${x:-y}"', "expands ${x:-y}"),
        ("ls $(pwd)", "command substitution"),
        ("ls `pwd`", "command substitution"),
        ("diff <(ls) <(ls)", "process substitution"),
        ("echo $((1+1))", "arithmetic"),
        ("echo {a,b}", "brace expansion"),
        ("echo {1..3}", "brace expansion"),
        ("ls ~root", "another user's home"),
        ("cat <<< hi", "here-string"),
        ("cat <<EOF\nhi\nEOF", "here-document"),
        ("export A=1", "declares"),
        ("[[ -f x ]]", "test expression"),
        ('echo $"hi"', "does not know"),
    ],
)
def test_constructs_beyond_plain_commands_are_named(source: str, problem: str) -> None:
    script = parse_script(source)
    assert not script.plain
    assert any(problem in p for p in script.problems), script.problems


@pytest.mark.parametrize(
    "source",
    [
        "sort -\\\no out",  # bash joins '-' and 'o': sort -o out; the grammar sees two words
        "l\\\ns -la",
        "ls\rtouch x",  # a carriage return is part of a word for bash
        "ls\x00; touch x",
        "echo \x1b]0;title\x07",
        "ls 'unterminated",
        "ls &&",
        "ls | | wc",
        "ls <> f",
        "ls &>/dev/null touch x",  # dash: 'ls &' then '>/dev/null touch x'
        "ls &>>/dev/null touch x",
        "echo \\ #x; touch p",  # the grammar skips '\ ' and would read a comment
    ],
)
def test_scripts_the_grammar_might_misread_are_errors(source: str) -> None:
    assert parse_script(source).error is not None


def test_line_continuations_between_words_are_fine() -> None:
    script = parse_script("ls \\\n  -la \\\n  src")
    assert script.error is None and words_of("ls \\\n  -la \\\n  src") == [["ls", "-la", "src"]]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    assert parse_script("(" * 400 + "ls" + ")" * 400).error is not None


def test_parser_is_built_once_and_parses_are_cached() -> None:
    from ml_intern_tui.safety import shell_parse

    first = shell_parse._parser()
    assert shell_parse._parser() is first
    assert parse_script("ls -la") is parse_script("ls -la")


# ------------------------------------------------------------------ words


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (r"\x72m", "rm"),
        (r"\162m", "rm"),
        (r"\u0072m", "rm"),
        (r"\U00000072m", "rm"),
        (r"a\nb\tc", "a\nb\tc"),
        (r"\e[0m", "\x1b[0m"),
        (r"\cA", "\x01"),
        (r"it\'s", "it's"),
        (r"a\x00b", "a"),  # bash ends the string at a NUL
        (r"\q", "\\q"),
    ],
)
def test_ansi_c_strings_decode_like_bash(body: str, text: str) -> None:
    assert decode_ansi_c(body) == text


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("echo $'\\x72m' \"a b\" c\\ d", ["echo", "rm", "a b", "c d"]),
        ("echo 'it'\\''s'", ["echo", "it's"]),
        ('echo "x\\"y" "a\\\\b" "a\\$b" "a\\zb"', ["echo", 'x"y', "a\\b", "a$b", "a\\zb"]),
        ("\\rm -rf x", ["rm", "-rf", "x"]),
        ("r''m x", ["rm", "x"]),
        ('"r"m x', ["rm", "x"]),
        ("to\\uch x", ["touch", "x"]),
        ("git log HEAD@{1}", ["git", "log", "HEAD@{1}"]),
        ("echo \"\"\\#a $'x'\\#y", ["echo", "#a", "x#y"]),  # the grammar splits these words
        ('A=""\\#x rm -rf ~', ["rm", "-rf", "~"]),
    ],
)
def test_words_resolve_as_bash_resolves_them(source: str, values: list[str]) -> None:
    assert words_of(source) == [values]


def test_globs_and_tilde_are_flagged_not_expanded() -> None:
    (command,) = parse_script('ls *.py \'*.txt\' ~/x ~ ~"/x" ~"" \\~/x').commands
    glob, quoted, home, bare, *literal = command.words[1:]
    assert glob.glob and not quoted.glob and quoted.value == "*.txt"
    assert home.tilde and bare.tilde and home.value == "~/x"
    assert [w.tilde for w in literal] == [False, False, False]  # a quoted tilde-prefix


def test_canonical_text_undoes_obfuscation() -> None:
    script = parse_script("$'\\x72m' -rf \"/\" ; 'l''s' > out 2>&1")
    assert [c.text for c in script.commands] == ["rm -rf /", "ls > out 2>&1"]


DIFFERENTIAL = [
    "a\\ b 'c d' \"e f\" g",
    '\'it\'\\\'\'s\' "x\\"y" "a\\\\b" "a\\$b" "a\\qb"',
    "-o\\ut --out=x '--' \"-\"",
    "a#b c\\#d 'e#f'",
    "con\"cat\"'en'ation x''y",
    "\\\\ \\$x '\\n' \"\\n\"",
]


@pytest.mark.parametrize("shell", ["bash", "dash"])
@pytest.mark.parametrize("args", DIFFERENTIAL)
def test_word_values_match_the_real_shell(shell: str, args: str) -> None:
    """The analysis and the shell that runs the command agree on every word."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    done = subprocess.run(
        [shell, "-c", f"printf '%s\\0' {args}"], capture_output=True, check=True, timeout=10
    )
    real = done.stdout.decode().split("\0")[:-1]
    ((_, *ours),) = words_of(f"printf {args}")
    assert ours == real


def test_ansi_c_words_match_bash() -> None:
    done = subprocess.run(
        ["bash", "-c", "printf '%s\\0' $'\\x72m' $'a\\tb' $'\\101\\u00e9'"],
        capture_output=True,
        check=True,
        timeout=10,
    )
    ((_, *ours),) = words_of("printf $'\\x72m' $'a\\tb' $'\\101\\u00e9'")
    assert ours == done.stdout.decode().split("\0")[:-1]
