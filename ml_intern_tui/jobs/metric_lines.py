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

# One pass in C finds every pair: a key that starts a token (not inside a URL, a path,
# a flag or a longer word), an optional split word before it, the same quote on both
# sides, then the number. Possessive repeats keep it linear on hostile input.
_PAIR_RE = re.compile(
    r"(?<![\w./:@'\"-])"
    r"(?:(train|training|val|valid|validation|eval|test|dev) )?"
    r"(['\"]?)([A-Za-z][\w./-]{0,63}+)\2 ?[:=] ?"
    r"(?:np\.float\d*\(|np\.int\d*\(|tensor\()?['\"]?(" + _NUM + r")['\"]?(?!%\|)" + _END
)
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


@dataclass(slots=True)
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


@dataclass(slots=True)
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


_VALUE, _STEP, _EPOCH = 0, 1, 2
_KEY_CACHE: dict[tuple[str, str], tuple[str, int] | None] = {}
_KEY_CACHE_SIZE = 4096


def _classify(key: str, split: str) -> tuple[str, int] | None:
    """``(series name, what it is)`` for a key as printed, ``None`` when it is no metric."""
    if key.isupper() and len(key) > 1:  # HF_HUB_ENABLE_HF_TRANSFER=1: a variable, not a metric
        return None
    lower = key.lower()
    if lower in _IGNORED_KEYS or lower.endswith(("_port", "_id", "_pid", "_version")):
        return None
    if split:
        return f"{split.lower()}_{key}", _VALUE
    if lower in STEP_KEYS:
        return key, _STEP
    if lower in EPOCH_KEYS:
        return key, _EPOCH
    return key, _VALUE


def _key(key: str, split: str) -> tuple[str, int] | None:
    """:func:`_classify`, remembered: a log repeats the same few keys on every line."""
    try:
        return _KEY_CACHE[(key, split)]
    except KeyError:
        pass
    if len(_KEY_CACHE) >= _KEY_CACHE_SIZE:
        _KEY_CACHE.clear()  # a log with endless distinct keys only loses the cache
    known = _KEY_CACHE[(key, split)] = _classify(key, split)
    return known


def _pairs(text: str, found: dict[str, tuple[float, int]]) -> None:
    """Add the ``key: value`` / ``key=value`` pairs of ``text`` to ``found``."""
    for split, _quote, key, number in _PAIR_RE.findall(text):
        known = _key(key, split)
        if known is not None and known[0] not in found:
            found[known[0]] = (float(number), known[1])
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
    found: dict[str, tuple[float, int]] = {}
    if "=" in line or ":" in line:
        _pairs(line, found)
    if len(found) < MAX_PAIRS_PER_LINE and not _WORD_SET.isdisjoint(line.lower().split()):
        for split, key, number in _WORD_RE.findall(line):
            known = _key(key.lower(), split)
            if known is not None and known[0] not in found:
                found[known[0]] = (float(number), known[1])
    if len(found) == 1:
        name, (_, kind) = next(iter(found.items()))
        if kind == _VALUE and not _metric_like(name):
            return None if progress is None else LineMetrics(progress=progress)
    values: dict[str, float] = {}
    step = epoch = None
    for name, (value, kind) in found.items():
        if kind == _VALUE:
            values[name] = value
        elif not math.isfinite(value) or value < 0:
            continue
        elif kind == _STEP:
            step = value if step is None else step
        elif epoch is None:
            epoch = value
    if not values and step is None and epoch is None and progress is None:
        return None
    return LineMetrics(values=values, step=step, epoch=epoch, progress=progress)
