"""Our token count, corrected to the server's: the gauge and compaction use the server's scale.

We count with litellm's tokenizer for the model (tiktoken when it has nothing better);
servers count with their own tokenizer and chat template, tool schemas included. After
each call the server reports ``prompt_tokens`` for what we sent: a line fitted through
the last few (ours, theirs) pairs, anchored on the newest one, maps our count onto theirs.
``slope`` is the ratio for new text (tokenizers differ by ~10-40%), ``offset`` what the
server adds on its own (the template, tool schemas rendered its way). Until two sizes
far enough apart were seen, the slope is the plain ratio of the one pair.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

MIN_OURS = 64
"""Counts below this are too small to say anything about the ratio."""
PLAUSIBLE_RATIO = (0.5, 3.0)
"""A server count outside this ratio to ours is not the same prompt (a fixed fake number,
a server that counts only the last message): ignored."""
SLOPE_RANGE = (0.5, 3.0)
MIN_SPREAD = 256
"""Our counts must differ by this much (and 5%) before a slope is fitted from them."""
KEEP = 8


class TokenCalibration:
    """Maps our token count of a request onto the server's: ``slope × ours + offset``."""

    def __init__(self, points: Iterable[tuple[int, int]] = ()) -> None:
        self._points: deque[tuple[int, int]] = deque(maxlen=KEEP)
        self.slope = 1.0
        self.offset = 0.0
        self._fitted = False
        for ours, theirs in points:
            self.observe(ours, theirs)

    @property
    def calibrated(self) -> bool:
        """Whether the server reported a usable count yet."""
        return bool(self._points)

    @property
    def points(self) -> list[tuple[int, int]]:
        """The (ours, server's) pairs the fit uses, oldest first (for the journal)."""
        return list(self._points)

    def observe(self, ours: int, theirs: int) -> bool:
        """Take the server's count ``theirs`` for a request we counted as ``ours``.

        Returns False (and changes nothing) for a pair that cannot be the same prompt.
        """
        if ours < MIN_OURS or theirs <= 0:
            return False
        low, high = PLAUSIBLE_RATIO
        if not low <= theirs / ours <= high:
            return False
        self._points.append((int(ours), int(theirs)))
        self._fit()
        return True

    def estimate(self, ours: int) -> int:
        """The server's count for a whole request we count as ``ours``."""
        if ours <= 0:
            return 0
        # A server that adds less than we count (no tool schemas) can make the line dip
        # for small requests: never below half our count.
        return round(max(self.slope * ours + self.offset, ours * PLAUSIBLE_RATIO[0]))

    def scale(self, ours: int) -> int:
        """The server's count for a part of a request (one message): no offset."""
        return round(self.slope * ours)

    def unscale(self, theirs: int) -> int:
        """Our count for a part the server would count as ``theirs`` (to plan a cut).

        Before a slope was fitted the ratio of one pair stands in for it, and that ratio
        also holds what the server adds on its own: planning with it could cut too
        little (another overflow), so it is taken as at most 1 then.
        """
        slope = self.slope if self._fitted else min(self.slope, 1.0)
        return round(theirs / slope)

    def reset(self) -> None:
        """Forget everything (another model counts differently)."""
        self._points.clear()
        self.slope, self.offset, self._fitted = 1.0, 0.0, False

    def state(self) -> dict[str, Any]:
        return {"points": [list(p) for p in self._points]}

    def _fit(self) -> None:
        xs = [x for x, _ in self._points]
        ys = [y for _, y in self._points]
        spread = max(xs) - min(xs)
        low, high = SLOPE_RANGE
        last_x, last_y = self._points[-1]
        if len(xs) >= 2 and spread >= max(MIN_SPREAD, 0.05 * max(xs)):
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            var = sum((x - mean_x) ** 2 for x in xs)
            cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
            self.slope = min(max(cov / var, low), high)
            self._fitted = True
        elif not self._fitted:
            # One size seen so far: the plain ratio is the best guess for new text too.
            self.slope = min(max(last_y / last_x, low), high)
        # Anchored on the newest pair: right after a call the estimate is the server's count.
        self.offset = last_y - self.slope * last_x
