"""Command-line options read the way GNU getopt reads them.

A program's table lists every option it knows (``-o=`` takes a value, ``-u?`` takes an
optional attached value, ``--output=``, ``--color?``) and the ones that write or run
something (``denied``). ``parse_options`` splits the arguments into options and operands
as the program itself would: short bundles (``-uo FILE``, ``-ofile``), long options
with ``=`` or a separate value, any unique prefix of a long option (``--outp`` is
``--output``), options after operands (GNU permutes), ``--`` ending the options. A prefix
that could name a denied option counts as that option: the analysis never guesses in
the attacker's favour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ml_intern_tui.safety.shell_words import Word

GlobExpander = Callable[[Word], list[str] | None]
"""The names a glob word expands to (``None`` when they cannot be listed)."""

_NUMERIC = re.compile(r"^-\d+[a-zA-Z]*$")


@dataclass(frozen=True)
class OptionTable:
    """The options of one program (or one subcommand)."""

    short_flags: frozenset[str] = frozenset()
    short_values: frozenset[str] = frozenset()
    short_optional: frozenset[str] = frozenset()
    long_flags: frozenset[str] = frozenset()
    long_values: frozenset[str] = frozenset()
    long_optional: frozenset[str] = frozenset()
    denied: Mapping[str, str] = field(default_factory=dict)
    """Option → why it is not read-only (``"--output": "writes a file"``)."""
    numeric: bool = False
    """``-5`` is a count (``head -5``, ``grep -3``)."""
    permute: bool = True
    """Options may follow operands (GNU); ``False`` stops at the first operand."""
    unknown_long_ok: bool = False
    """Long options missing from the table are allowed (tables kept as deny-lists)."""

    @property
    def longs(self) -> frozenset[str]:
        return self.long_flags | self.long_values | self.long_optional


def table(
    spec: str,
    denied: Mapping[str, str] | None = None,
    *,
    numeric: bool = False,
    permute: bool = True,
    unknown_long_ok: bool = False,
) -> OptionTable:
    """Build a table from ``"-a -k= -u? --all --key= --color?"`` (see the module doc)."""
    buckets: dict[str, set[str]] = {key: set() for key in ("sf", "sv", "so", "lf", "lv", "lo")}
    for token in spec.split():
        name = token.rstrip("=?")
        arity = token[len(name) :]
        long = name.startswith("--")
        if not long and (len(name) != 2 or not name.startswith("-")):
            raise ValueError(f"bad option token {token!r}")
        key = ("l" if long else "s") + {"": "f", "=": "v", "?": "o"}[arity]
        buckets[key].add(name if long else name[1])
    denied = dict(denied or {})
    for option in denied:
        bare = option if option.startswith("--") else option[1:]
        known = buckets["lf" if option.startswith("--") else "sf"]
        if not any(bare in buckets[k] for k in buckets):
            known.add(bare)
    return OptionTable(
        short_flags=frozenset(buckets["sf"]),
        short_values=frozenset(buckets["sv"]),
        short_optional=frozenset(buckets["so"]),
        long_flags=frozenset(buckets["lf"]),
        long_values=frozenset(buckets["lv"]),
        long_optional=frozenset(buckets["lo"]),
        denied=denied,
        numeric=numeric,
        permute=permute,
        unknown_long_ok=unknown_long_ok,
    )


@dataclass
class ParsedArgs:
    """Options and operands of one command line."""

    options: list[tuple[str, str | None]] = field(default_factory=list)
    """``("-o", "out")``, ``("--all", None)``: canonical names, in order."""
    operands: list[Word] = field(default_factory=list)
    denied: str | None = None
    """``"--output writes a file"`` for the first denied option met."""
    unknown: str | None = None
    """The first option the table does not know (or cannot resolve)."""

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)

    def values(self, *names: str) -> list[str]:
        return [value for name, value in self.options if name in names and value is not None]

    @property
    def problem(self) -> str | None:
        return self.denied or self.unknown


def parse_options(
    program: str, words: list[Word], spec: OptionTable, expand: GlobExpander | None = None
) -> ParsedArgs:
    """Split ``words`` (the arguments, without the program) as ``program`` would."""
    result = ParsedArgs()
    i = 0
    options_done = False
    while i < len(words):
        word = words[i]
        text = word.value or ""
        i += 1
        if options_done or text == "-" or not text.startswith("-"):
            if not options_done and word.glob:
                _check_glob(program, word, expand, result)
            result.operands.append(word)
            if not spec.permute:
                options_done = True
            continue
        if text == "--":
            options_done = True
            continue
        if text.startswith("--"):
            i = _long(program, text, words, i, spec, result)
        elif spec.numeric and _NUMERIC.match(text):
            result.options.append(("-#", text[1:]))
        else:
            i = _short(program, text, words, i, spec, result)
        if word.glob:
            _note(result, "unknown", f"{program} {word.raw}: a glob in option position")
    return result


def _check_glob(program: str, word: Word, expand: GlobExpander | None, out: ParsedArgs) -> None:
    names = expand(word) if expand is not None else None
    if names is None:
        _note(out, "unknown", f"{program} {word.raw}: cannot list what the glob matches")
    elif any(name.startswith("-") for name in names):
        _note(out, "denied", f"{program} {word.raw} matches a file named like an option")


def _long(
    program: str, text: str, words: list[Word], i: int, spec: OptionTable, out: ParsedArgs
) -> int:
    name, sign, value = text.partition("=")
    has_value = bool(sign)
    resolved = resolve_long(name, spec)
    if resolved is None:
        if not spec.unknown_long_ok:
            _note(out, "unknown", f"{program} {name} is not a known read-only option")
        out.options.append((name, value if has_value else None))
        return i
    if resolved in spec.denied:
        _note(out, "denied", f"{program} {resolved} {spec.denied[resolved]}")
    if resolved in spec.long_values and not has_value:
        value = (words[i].value or "") if i < len(words) else ""
        has_value = True
        i += 1
    out.options.append((resolved, value if has_value else None))
    return i


def resolve_long(name: str, spec: OptionTable) -> str | None:
    """The long option ``name`` abbreviates; a denied one when it could be one of them."""
    longs = spec.longs
    if name in longs:
        return name
    candidates = sorted(option for option in longs if option.startswith(name))
    risky = [option for option in candidates if option in spec.denied]
    if risky:
        return risky[0]
    if len(candidates) == 1:
        return candidates[0]
    return None


def _short(
    program: str, text: str, words: list[Word], i: int, spec: OptionTable, out: ParsedArgs
) -> int:
    body = text[1:]
    for pos, char in enumerate(body):
        option = "-" + char
        if option in spec.denied:
            _note(out, "denied", f"{program} {option} {spec.denied[option]}")
        rest = body[pos + 1 :]
        if char in spec.short_values:
            if rest:
                out.options.append((option, rest))
            else:
                out.options.append((option, (words[i].value or "") if i < len(words) else ""))
                i += 1
            return i
        if char in spec.short_optional:
            out.options.append((option, rest or None))
            return i
        if char in spec.short_flags:
            out.options.append((option, None))
            continue
        _note(out, "unknown", f"{program} {option} is not a known read-only option")
        out.options.append((option, None))
    return i


def _note(out: ParsedArgs, kind: str, message: str) -> None:
    if getattr(out, kind) is None:
        setattr(out, kind, message)
