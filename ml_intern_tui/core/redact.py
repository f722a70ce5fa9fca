"""Scrub secrets from everything the app persists, exports or uploads.

``redact`` walks strings, dicts, lists and tuples and returns a scrubbed copy (the input
is never mutated). Each secret becomes a visible marker such as ``[REDACTED_HF_TOKEN]``
so a person reading a journal knows something was there. The patterns aim at things
that really are credentials: git SHAs, ordinary base64 data, ``max_tokens=512`` or
``tokenizer.pad_token = tokenizer.eos_token`` are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, cast

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
]

_SECRET_WORDS = r"(?:API[_-]?KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|ACCESS[_-]?KEY|PRIVATE[_-]?KEY)"
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
    (?P<sep>["']?[ \t]*[:=][ \t]*)
    (?P<value>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[^\s"',;)}}]+)
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


def _is_placeholder(value: str) -> bool:
    """Values that cannot be a credential: literals, types, references, template slots."""
    inner = _unquote(value)
    if not inner or _MARKER_RE.search(inner):
        return True
    return bool(_CODE_VALUE_RE.match(inner))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


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
    quote = value[0] if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else ""
    return f"{name}{sep}{quote}{REDACTED}{quote}"


def _flag(match: re.Match[str]) -> str:
    flag, space, value = match.group(1), match.group(2), match.group(3)
    if not _is_secret_pair(flag.lstrip("-").replace("-", "_"), value):
        return match.group(0)
    return f"{flag}{space}{REDACTED}"


LONG_TEXT = 4096
"""Texts at least this long are scrubbed once: a long answer is journaled as a message
and again as an event, and each pass over it takes milliseconds."""


def redact_text(text: str) -> str:
    """``text`` with every recognised secret replaced by a ``[REDACTED…]`` marker."""
    if len(text) >= LONG_TEXT:
        return _redact_long(text)
    return _redact_text(text)


@lru_cache(maxsize=8)
def _redact_long(text: str) -> str:
    return _redact_text(text)


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
]
_FLAG_NEEDLES = ("token", "passw", "passphrase", "secret", "api", "key")


def _redact_text(text: str) -> str:
    if not text:
        return text
    lower = text.lower()
    for (pattern, replacement), (needles, folded) in zip(_PATTERNS, _NEEDLES, strict=True):
        haystack = lower if folded else text
        if any(needle in haystack for needle in needles):
            text = pattern.sub(replacement, text)
    if "-" in text and any(needle in lower for needle in _FLAG_NEEDLES):
        text = _FLAG_RE.sub(_flag, text)
    return _redact_assignments(text)


def _redact_assignments(text: str) -> str:
    """``NAME=value`` secrets; a match never spans lines, so only lines with ``=``/``:``.

    The assignment pattern is the slowest of all; skipping the lines that cannot match
    makes scrubbing a long answer several times faster.
    """
    if "\n" not in text:
        return _ASSIGNMENT_RE.sub(_assignment, text) if ("=" in text or ":" in text) else text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "=" in line or ":" in line:
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
