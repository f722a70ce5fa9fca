"""Reading training metrics out of one log line, without trusting it.

A job's log is untrusted text, so nothing here evaluates it: numbers are found with
regular expressions and converted with ``float``. One pass of one pattern reads the
forms training code prints:

- ``key=value`` and ``key: value`` pairs (plain scripts, Lightning's bar postfix, Keras'
  ``- loss: 0.23``), with an optional ``train``/``val``/... word before the key;
- the dicts the transformers ``Trainer`` prints (``{'loss': 0.41, 'epoch': 1.2}``, with
  values as strings since transformers formats them with ``.4g``, or wrapped as
  ``np.float64(...)`` / ``tensor(...)``), TRL's keys with slashes (``rewards/margins``) and
  JSON lines;
- ``name number`` for a few well-known words (``iter 100: loss 2.34``, ``epoch 3``).

A second pattern reads tqdm progress bars (``37%|███▋ | 370/1000 [01:02<01:46, 5.9it/s]``)
and Keras' ``370/1000 [====>...] - ETA: 1:46``. Things that look like pairs but are not
metrics are refused: URLs and ``host:port``, timestamps, version numbers, thousands
separators, command-line flags, environment variables (``HF_HUB_ENABLE_HF_TRANSFER=1``),
and a single pair whose key does not look like a metric.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

MAX_PARSE_CHARS = 8192
"""Longer lines are not read for metrics (a log is untrusted; real metric lines are short)."""
MAX_PAIRS_PER_LINE = 64
MAX_KEY_CHARS = 64

_NUM = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|NaN|inf|Infinity)"
# What may follow a number for it to be a whole value: not a version (1.2.3), a time
# (12:34), a thousands separator (1,234), a size (12GB) or a path (8080/api).
_END = r"(?=$|[\s;|)\]}%]|,(?!\d)|:(?!\S)|/\d)"

# Pairs are found from their separator: a ``:`` or ``=`` before a number is rare in
# ordinary text, and ``str``-level scanning for it is far cheaper than trying a key at
# every position. The key is then read backwards (on the reversed line, anchored).
_VALUE_RE = re.compile(
    r"[:=] ?(?:np\.float\d*\(|np\.int\d*\(|tensor\()?['\"]?(?P<num>" + _NUM + r")['\"]?" + _END
)
_REV_KEY_RE = re.compile(r" ?(?P<q>['\"]?)(?P<key>[\w./-]{1,64}+)")  # 64: MAX_KEY_CHARS
_BAD_BEFORE_KEY = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@-'\""
)
_SPLITS = frozenset({"train", "training", "val", "valid", "validation", "eval", "test", "dev"})
_WORD_SET = frozenset({"loss", "acc", "accuracy", "lr", "ppl", "perplexity", "reward", "step", "iter", "iteration", "epoch", "f1"})  # fmt: skip
_WORD_RE = re.compile(
    r"(?<![\w./:@\-])(?:(?P<split>train|training|val|valid|validation|eval|test|dev)[ _])?"
    r"(?P<key>loss|acc|accuracy|lr|ppl|perplexity|reward|step|iter|iteration|epoch|f1)"
    r" (?P<num>" + _NUM + r")" + _END,
    re.IGNORECASE,
)

# Matched from just after ``NN%|`` (found with ``str.find``), so a line of digits cannot
# make the pattern backtrack over the description.
_TQDM_TAIL_RE = re.compile(
    r"[^|]{0,200}+\|\s*"
    r"(?P<n>\d+(?:\.\d+)?)(?P<nscale>[kMGTPE]?)/(?P<total>\d+(?:\.\d+)?)(?P<tscale>[kMGTPE]?)\s*"
    r"\[(?P<elapsed>[\d:]+)<(?P<remaining>[\d:?]+)"
    r"(?:,\s*(?P<rate>[\d.]+|\?)\s?(?P<unit>[^\s,\]]*))?"
)
_TQDM_NOTOTAL_RE = re.compile(
    r"(?P<n>\d+)(?P<unit>it) \[(?P<elapsed>[\d:]+)(?:,\s*(?P<rate>[\d.]+|\?)(?P<rateunit>it/s|s/it))?"
)
_KERAS_RE = re.compile(
    r"^\s*(?P<n>\d+)/(?P<total>\d+) (?:\[[=>.]*\]|[━─]+)"
    r"(?:.*?ETA: (?P<eta>[\d:]+)(?P<etaunit>s|ms)?)?"
)

STEP_KEYS = frozenset(
    {"step", "global_step", "steps", "iter", "iteration", "it", "train/global_step"}
)
EPOCH_KEYS = frozenset({"epoch", "epochs", "train/epoch"})

_IGNORED_KEYS = frozenset(
    {
        "pid", "port", "http", "https", "host", "localhost", "line", "lineno", "version",
        "v", "v_num", "id", "rank", "local_rank", "world_size", "seed", "status", "code",
        "exit", "returncode", "total_flos", "num_workers", "workers", "gpu", "cuda", "device",
        "node", "nodes", "nproc_per_node", "master_port", "timeout", "retry", "attempt",
    }
)  # fmt: skip
_METRIC_WORDS = (
    "loss", "acc", "f1", "precision", "recall", "auc", "bleu", "rouge", "ppl", "perplex",
    "lr", "learning_rate", "grad", "norm", "reward", "kl", "entropy", "score", "error",
    "err", "mse", "mae", "rmse", "wer", "cer", "map", "iou", "dice", "epoch", "step",
    "iter", "throughput", "per_second", "tokens", "samples", "mfu", "logps", "logits",
    "margin", "runtime", "metric", "val", "eval", "train", "test", "win_rate", "exact",
    "match", "clip",
)  # fmt: skip
_IGNORED_DESCS = (
    "load", "map", "filter", "token", "download", "generat", "fetch", "upload", "convert",
    "shard", "extract", "resolv", "saving", "writing", "creating", "computing checksums",
)  # fmt: skip


@dataclass
class Progress:
    """A progress bar's state: steps done, of how many, and the time left."""

    n: float
    total: float | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    rate: float | None = None
    """Steps per second (``s/it`` bars are inverted)."""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(max(self.n / self.total, 0.0), 1.0)


@dataclass
class LineMetrics:
    """What one line said: metric values, the step or epoch it is at, a progress bar."""

    values: dict[str, float] = field(default_factory=dict)
    step: float | None = None
    epoch: float | None = None
    progress: Progress | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def seconds(clock: str) -> float | None:
    """``01:02`` / ``1:01:02`` → seconds; ``None`` for ``?`` or junk."""
    if not clock or "?" in clock:
        return None
    total = 0.0
    for part in clock.split(":"):
        if not part.isdigit():
            return None
        total = total * 60 + int(part)
    return total


def _metric_like(key: str) -> bool:
    lower = key.lower()
    if lower.startswith(("max_", "min_", "num_", "n_")):
        return False  # a setting (max_length=512), not a measurement
    return any(word in lower for word in _METRIC_WORDS)


def _usable_key(key: str, split: str | None) -> str | None:
    """The series name for ``key``, or ``None`` for a variable, a port, an id..."""
    if key.isupper() and len(key) > 1:  # HF_HUB_ENABLE_HF_TRANSFER=1: a variable, not a metric
        return None
    lower = key.lower()
    if lower in _IGNORED_KEYS or lower.endswith(("_port", "_id", "_pid", "_version")):
        return None
    return f"{split.lower()}_{key}" if split else key


def _pairs(text: str, found: dict[str, float]) -> None:
    """Add the ``key: value`` / ``key=value`` pairs of ``text`` to ``found``."""
    reverse = ""
    size = len(text)
    for value in _VALUE_RE.finditer(text):
        pos = value.start()
        if not pos:
            continue
        before_sep = text[pos - 1]
        if before_sep.isdigit() and (pos < 2 or not text[pos - 2].isalpha()):
            continue  # 12:34 is a time, not a pair
        if text.startswith("%|", value.end()):
            continue  # "Map: 100%|███": a progress bar's percentage, not a metric
        reverse = reverse or text[::-1]
        back = _REV_KEY_RE.match(reverse, size - pos)
        if back is None:
            continue
        start = size - back.end()
        key = text[start : size - back.start("key")]
        if not key[0].isalpha():
            continue
        before = text[start - 1] if start else ""
        if back.group("q"):
            if before != back.group("q"):
                continue
            before = text[start - 2] if start > 1 else ""
        if before and before in _BAD_BEFORE_KEY:
            continue  # part of a URL, a path, a flag (--lr=3e-4) or a longer token
        split = None
        if before == " " and start > 1:
            word = text[text.rfind(" ", 0, start - 1) + 1 : start - 1]
            if word in _SPLITS:
                split = word
        name = _usable_key(key, split)
        if name is not None:
            found.setdefault(name, float(value.group("num")))
            if len(found) >= MAX_PAIRS_PER_LINE:
                return


def parse_progress(line: str) -> Progress | None:
    """A tqdm or Keras progress bar in ``line`` (training bars only), else ``None``."""
    bar = line.find("%|")
    if bar > 0:
        digits = bar
        while digits > 0 and bar - digits < 3 and line[digits - 1].isdigit():
            digits -= 1
        match = _TQDM_TAIL_RE.match(line, bar + 2) if digits < bar else None
        if match is None:
            return None
        desc = line[:digits].lower()
        unit = match.group("unit") or ""
        if any(word in desc for word in _IGNORED_DESCS):
            return None
        if unit and unit not in ("it/s", "s/it"):  # bytes, examples/s: not training steps
            return None
        if match.group("nscale") or match.group("tscale"):
            return None  # unit_scale bars count bytes or samples
        n = float(match.group("n"))
        total = float(match.group("total"))
        rate_text = match.group("rate")
        rate = None if rate_text in (None, "?") else _number(rate_text)
        if rate is not None and unit == "s/it":
            rate = 1.0 / rate if rate else None
        return Progress(
            n=n,
            total=total or None,
            elapsed_s=seconds(match.group("elapsed")),
            eta_s=seconds(match.group("remaining")),
            rate=rate,
        )
    if "/" in line and ("[" in line or "━" in line):
        keras = _KERAS_RE.match(line)
        if keras is not None:
            eta = seconds(keras.group("eta") or "")
            if eta is not None and keras.group("etaunit") == "ms":
                eta /= 1000
            return Progress(n=float(keras.group("n")), total=float(keras.group("total")), eta_s=eta)
    if "it [" in line:
        bare = _TQDM_NOTOTAL_RE.search(line)
        if bare is not None:
            rate_text = bare.group("rate")
            rate = None if rate_text in (None, "?") else _number(rate_text)
            if rate is not None and bare.group("rateunit") == "s/it":
                rate = 1.0 / rate if rate else None
            return Progress(
                n=float(bare.group("n")), elapsed_s=seconds(bare.group("elapsed")), rate=rate
            )
    return None


def parse_line(line: str) -> LineMetrics | None:
    """The metrics ``line`` reports, or ``None`` when it reports none.

    A carriage return inside the line (a progress redraw the log kept) leaves only its
    last segment, as a terminal would show it.
    """
    if "\r" in line:
        segments = [s for s in line.split("\r") if s.strip()]
        line = segments[-1] if segments else ""
    if len(line) > MAX_PARSE_CHARS or len(line) < 3:
        return None
    progress = parse_progress(line)
    found: dict[str, float] = {}
    step = epoch = None
    _pairs(line, found)
    if len(found) < MAX_PAIRS_PER_LINE and not _WORD_SET.isdisjoint(line.lower().split()):
        for match in _WORD_RE.finditer(line):
            key = _usable_key(match.group("key").lower(), match.group("split"))
            value = _number(match.group("num"))
            if key is not None and value is not None:
                found.setdefault(key, value)
    if len(found) == 1 and not _metric_like(next(iter(found))):
        found = {}  # one lone pair that does not look like a metric: ordinary text
    values: dict[str, float] = {}
    for key, value in found.items():
        lower = key.lower()
        if lower in STEP_KEYS:
            if step is None and math.isfinite(value) and value >= 0:
                step = value
        elif lower in EPOCH_KEYS:
            if epoch is None and math.isfinite(value) and value >= 0:
                epoch = value
        else:
            values[key] = value
    if not values and step is None and epoch is None and progress is None:
        return None
    return LineMetrics(values=values, step=step, epoch=epoch, progress=progress)
