"""Scrub secrets from everything the app persists, exports or uploads.

``redact`` walks strings, dicts, lists and tuples and returns a scrubbed copy (the input
is never mutated). Each secret becomes a visible marker such as ``[REDACTED_HF_TOKEN]``
so a person reading a journal knows something was there. The patterns aim at things
that really are credentials: git SHAs, ordinary base64 data, ``max_tokens=512`` or
``tokenizer.pad_token = tokenizer.eos_token`` are left alone. The exact values of the
secrets this process knows (``core/known_secrets.py``) are scrubbed first, whatever
their shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, cast

from ml_intern_tui.core import known_secrets

T = TypeVar("T")

REDACTED = "[REDACTED]"
_MARKER_RE = re.compile(r"\[REDACTED(?:_[A-Z0-9_]+)?\]")

_Replacement = str | Callable[[re.Match[str]], str]


def _looks_random(token: str) -> bool:
    """True for machine-made strings (a digit, or both cases), false for hyphenated words."""
    has_digit = any(c.isdigit() for c in token)
    has_upper = any(c.isupper() for c in token)
    has_lower = any(c.islower() for c in token)
    return has_digit or (has_upper and has_lower)


def _openai_key(match: re.Match[str]) -> str:
    return "[REDACTED_API_KEY]" if _looks_random(match.group(0)[3:]) else match.group(0)


# Order matters: multi-line and specific forms first, so their markers say what they were;
# the generic NAME=value rule runs last and leaves already-redacted values alone.
_PATTERNS: list[tuple[re.Pattern[str], _Replacement]] = [
    (
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]{0,16384}?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"|[A-Za-z0-9+/=\s\\:,.-]{0,16384})"
        ),
        "[REDACTED_PRIVATE_KEY]",
    ),
    (
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,8192}"
        ),
        "[REDACTED_JWT]",
    ),
    (
        re.compile(r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
        "[REDACTED_SLACK_WEBHOOK]",
    ),
    # scheme://user:password@host -> keep the user, hide the password. The user may be
    # empty (redis://:pw@host) or an e-mail address, and the password may hold a raw "@"
    # (the last "@" before the path ends it).
    (
        re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,30}://)([^\s:/\[\]]{0,256}?):([^\s/]{1,1024})@"),
        r"\1\2:[REDACTED]@",
    ),
    (re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{30,}"), "[REDACTED_HF_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}"), "[REDACTED_ANTHROPIC_KEY]"),
    (
        re.compile(r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        _openai_key,
    ),
    (re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}"), "[REDACTED_GITHUB_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{30,}"), "[REDACTED_GITHUB_TOKEN]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "[REDACTED_AWS_KEY_ID]"),
    (
        re.compile(r"(?i)(aws_secret_access_key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{30,}"),
        r"\1[REDACTED_AWS_SECRET]",
    ),
    (
        re.compile(r"(?<![A-Za-z0-9])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}"),
        "[REDACTED_SLACK_TOKEN]",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9_\-.=~+/]{16,}"), r"\1 [REDACTED]"),
    # "Authorization: Basic dXNlcjpwYXNz" / "Authorization: token ghp_..." in logs and dumps.
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:basic|token|digest)\s+)"
            r"[A-Za-z0-9_\-.=~+/]{6,}"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}"), "[REDACTED_GOOGLE_API_KEY]"),
    (re.compile(r"(?<![A-Za-z0-9_-])glpat-[0-9A-Za-z_-]{20,}"), "[REDACTED_GITLAB_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}"), "[REDACTED_NPM_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{40,}"), "[REDACTED_PYPI_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9_])[sr]k_(?:live|test)_[A-Za-z0-9]{20,}"), "[REDACTED_STRIPE_KEY]"),
    # Inference providers the README lists, by their key prefixes (Groq, Replicate, xAI).
    (re.compile(r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{40,}"), "[REDACTED_GROQ_KEY]"),
    (re.compile(r"(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{30,}"), "[REDACTED_REPLICATE_TOKEN]"),
    (re.compile(r"(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{60,}"), "[REDACTED_XAI_KEY]"),
    # curl -u user:password (only for curl: "-u 1000:1000" is a uid:gid elsewhere).
    (
        re.compile(
            r"(\bcurl\b[^\n]{0,400}?\s(?:-u|--user)[ =]?[\"']?[^\s:\"']{1,128}):[^\s\"']{1,256}"
        ),
        r"\1:[REDACTED]",
    ),
    # .netrc: "machine host login bob password hunter2"
    (
        re.compile(r"(\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+)\S+"),
        r"\1[REDACTED]",
    ),
]

_SECRET_WORDS = (
    r"(?:API[_-]?KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|ACCESS[_-]?KEY|PRIVATE[_-]?KEY"
    r"|[A-Z0-9]_PWD|AUTH[_-]?KEY)"
)
_NAME_RE = re.compile(
    rf"(?i)^[A-Za-z0-9_.-]*(?:{_SECRET_WORDS}[A-Za-z0-9_-]*|TOKEN)$",
)
# ``pad_token = tokenizer.eos_token`` is tokenizer configuration, not a credential.
_ML_TOKEN_RE = re.compile(
    r"(?i)(?:^|[_.-])(?:pad|eos|bos|unk|sep|cls|mask|start|end|stop|special|image|audio|"
    r"video|vision|boi|eoi|boa|eoa|think|answer|default|chat|decoder_start|fill|"
    r"additional_special|sot|eot|bot|eom)_?token$"
)

_ASSIGNMENT_RE = re.compile(
    rf"""(?ix)
    (?<![A-Za-z0-9_.-])
    (?P<name>[A-Za-z0-9_.-]{{0,80}}?(?:{_SECRET_WORDS}[A-Za-z0-9_-]{{0,40}}|TOKEN))
    (?![A-Za-z0-9_])
    (?P<sep>(?:\\{{0,3}}["'])?[ \t]*[:=][ \t]*)
    (?P<value>
        "(?:[^"\\\n]|\\.)*"
      | '(?:[^'\\\n]|\\.)*'
      | \\{{1,3}}"(?:[^"\\\n]|\\[^"\n])*\\{{1,3}}"      # \"...\" inside a JSON string
      | (?:[^\s\x00-\x1f"',;)}}\\]|\\(?![nrt"'\\]))+   # stops at \n, \" escapes and NULs
    )
    """
)
_FLAG_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])(--?[A-Za-z0-9-]{0,40}?(?:token|password|passwd|passphrase|secret|"
    r"api-?key|access-key|private-key))(\s+)([^\s\"'-][^\s\"']*)"
)

_CODE_VALUE_RE = re.compile(
    r"""(?x)
    ^(?:
        None|null|nil|true|false|True|False|undefined
      | str|int|bytes|bool|float|Optional\[.*|Any|SecretStr.*
      | \$\{?[A-Za-z_][A-Za-z0-9_]*\}?(?::-[^}]*\})?     # $VAR, ${VAR}, ${VAR:-x}
      | <[^>]*>                                          # <your-token>
      | \*+|x{3,}|\.\.\.|…
      | [A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*[(\[].*   # call or subscript
      | (?:self|cls|args|config|cfg|settings|os|env|options|opts|params)\.[A-Za-z0-9_.]+
    )$
    """
)


def _is_secret_name(name: str) -> bool:
    if not _NAME_RE.match(name):
        return False
    return not _ML_TOKEN_RE.search(name)


_PATH_VALUE_RE = re.compile(r"^(?:~|\.{1,2})?/[\w.@%+~/-]*$")
_ESCAPED_SPACE_RE = re.compile(r"\s+|\\[nrt]")


def _is_placeholder(value: str) -> bool:
    """Values that cannot be a credential: literals, types, references, template slots,
    file paths (``SSL_KEY_FILE=/etc/ssl/key.pem``), and values already redacted."""
    inner = _unquote(value)
    unmarked = _MARKER_RE.sub("", inner)
    if not _ESCAPED_SPACE_RE.sub("", unmarked):
        return True  # empty, or nothing but markers
    if unmarked != inner:
        return False  # partly redacted already: the rest of it goes too
    return bool(_CODE_VALUE_RE.match(inner) or _PATH_VALUE_RE.match(inner))


def _quotes(value: str) -> tuple[str, str]:
    """The quote around ``value`` (``"``, ``'``, or an escaped ``\\"``), as (opening, closing)."""
    for quote in ('\\\\\\"', '\\\\"', '\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote, quote
    return "", ""


def _unquote(value: str) -> str:
    value = value.strip()
    opening, closing = _quotes(value)
    return value[len(opening) : len(value) - len(closing)] if opening else value


def _is_secret_pair(name: str, value: str) -> bool:
    """Whether ``name = value`` holds a credential worth hiding."""
    if not _is_secret_name(name) or _is_placeholder(value):
        return False
    if name.strip("-_.").lower() == "token":
        # A bare ``token`` is as often a tokenizer piece ("token": " the") as a secret.
        inner = _unquote(value)
        return len(inner) >= 16 and _looks_random(inner)
    return True


def _assignment(match: re.Match[str]) -> str:
    name, sep, value = match.group("name"), match.group("sep"), match.group("value")
    if not _is_secret_pair(name, value):
        return match.group(0)
    opening, closing = _quotes(value)
    return f"{name}{sep}{opening}{REDACTED}{closing}"


def _flag(match: re.Match[str]) -> str:
    flag, space, value = match.group(1), match.group(2), match.group(3)
    if not _is_secret_pair(flag.lstrip("-").replace("-", "_"), value):
        return match.group(0)
    return f"{flag}{space}{REDACTED}"


LONG_TEXT = 4096
"""Texts at least this long are scrubbed once: a long answer is journaled as a message
and again as an event, and each pass over it takes milliseconds."""

_generation = 0
"""Bumped whenever the known secret values change: part of every remembered answer's key,
so an answer worked out before a value was registered is never used after it (even one
stored by another thread after the caches were cleared)."""


def redact_text(text: str) -> str:
    """``text`` with every recognised secret replaced by a ``[REDACTED…]`` marker."""
    if len(text) >= LONG_TEXT:
        return _redact_long(text, _generation)
    # Short texts recur too: a tool's output, its call id and arguments are scrubbed for
    # the journal's message record, for its event record and for headless output.
    return _redact_short(text, _generation)


@lru_cache(maxsize=8)
def _redact_long(text: str, generation: int) -> str:
    return _redact_text(text)


@lru_cache(maxsize=2048)
def _redact_short(text: str, generation: int) -> str:
    return _redact_text(text)


def _secrets_changed() -> None:
    global _generation
    _generation += 1
    _redact_long.cache_clear()
    _redact_short.cache_clear()


known_secrets.on_change(_secrets_changed)


# Literal strings at least one of which each pattern's match contains (lower-cased for the
# case-insensitive ones): a pattern whose needles are all absent cannot match, and skipping
# it saves a pass over the text. Same order as _PATTERNS.
_NEEDLES: list[tuple[tuple[str, ...], bool]] = [
    (("PRIVATE KEY",), False),
    (("eyJ",), False),
    (("hooks.slack.com",), False),
    (("://",), False),
    (("hf_",), False),
    (("sk-ant-",), False),
    (("sk-",), False),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), False),
    (("github_pat_",), False),
    (("AKIA", "ASIA"), False),
    (("aws_secret_access_key",), True),
    (("xox", "xapp-"), False),
    (("bearer",), True),
    (("authorization",), True),
    (("AIza",), False),
    (("glpat-",), False),
    (("npm_",), False),
    (("pypi-",), False),
    (("k_live_", "k_test_"), False),
    (("gsk_",), False),
    (("r8_",), False),
    (("xai-",), False),
    (("curl",), False),
    (("machine",), False),
]
_FLAG_NEEDLES = ("token", "passw", "passphrase", "secret", "api", "key")


def _redact_text(text: str) -> str:
    if not text:
        return text
    text = known_secrets.scrub(text)
    lower = text.lower()
    for (pattern, replacement), (needles, folded) in zip(_PATTERNS, _NEEDLES, strict=True):
        haystack = lower if folded else text
        if any(needle in haystack for needle in needles):
            text = pattern.sub(replacement, text)
    if "-" in text and any(needle in lower for needle in _FLAG_NEEDLES):
        text = _FLAG_RE.sub(_flag, text)
    return _redact_assignments(text)


_ASSIGNMENT_NEEDLES = ("key", "secret", "passw", "passphrase", "pwd", "token")
"""Every name ``_ASSIGNMENT_RE`` matches holds one of these (lower-cased): ``_SECRET_WORDS``
and ``TOKEN``. Lines without any cannot match (most log and training lines)."""


def _may_assign_secret(line: str) -> bool:
    if "=" not in line and ":" not in line:
        return False
    lower = line.lower()
    return any(needle in lower for needle in _ASSIGNMENT_NEEDLES)


def _redact_assignments(text: str) -> str:
    """``NAME=value`` secrets; a match never spans lines, so only lines with ``=``/``:``
    and a secret-ish word are searched.

    The assignment pattern is the slowest of all; skipping the lines that cannot match
    makes scrubbing a long answer, or a job log, several times faster.
    """
    if "\n" not in text:
        return _ASSIGNMENT_RE.sub(_assignment, text) if _may_assign_secret(text) else text
    lower = text.lower()
    if not any(needle in lower for needle in _ASSIGNMENT_NEEDLES):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _may_assign_secret(line):
            lines[i] = _ASSIGNMENT_RE.sub(_assignment, line)
    return "\n".join(lines)


def _redact_value_under(key: str, value: Any) -> Any:
    """A dict entry named like a secret (``{"api_key": "abc"}``) hides its whole value."""
    if isinstance(value, str):
        scrubbed = redact_text(value)
        if scrubbed == value and _is_secret_pair(key, value):
            return REDACTED
        return scrubbed
    return _redact_any(value)


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (_redact_value_under(k, v) if isinstance(k, str) else _redact_any(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_any(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact_any(v) for v in value)
    return value


def redact(value: T) -> T:
    """A scrubbed copy of ``value`` (str, or dicts/lists/tuples of them, nested)."""
    return cast(T, _redact_any(value))


def contains_redaction(text: str) -> bool:
    """True when ``text`` holds a marker left by ``redact`` (resume warns about it)."""
    return bool(_MARKER_RE.search(text))


_RISK_NEEDLES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [needle.lower() for needles, _ in _NEEDLES for needle in needles]
        + [*_FLAG_NEEDLES, "pwd", "auth", "begin", "-----"]
    )
)


def may_hold_secret(text: str) -> bool:
    """Whether redaction could change ``text`` or text that continues it.

    True as soon as ``text`` holds a word some pattern starts from (``token``, ``Bearer``,
    ``hf_``, ``-----BEGIN``…) or a known secret value: a streamed line is then held back
    until it is whole. False means every character so far is final as it is.
    """
    lower = text.lower()
    if any(needle in lower for needle in _RISK_NEEDLES):
        return True
    return known_secrets.scrub(text) is not text
