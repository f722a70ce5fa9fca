"""Effort levels, cascades, the per-model books and their cache on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_intern_tui.core.effort import (
    LEVELS,
    EffortStore,
    LevelBook,
    cap,
    cascade,
    choose,
    first_unknown,
    parse_level,
)


@pytest.mark.parametrize(
    ("text", "level"),
    [("high", "high"), (" XHigh ", "xhigh"), ("off", None), ("none", None), ("", None)],
)
def test_parse_level(text: str, level: str | None) -> None:
    assert parse_level(text) == level


def test_parse_level_names_the_choices_on_a_typo() -> None:
    with pytest.raises(ValueError, match=r"unknown reasoning effort 'hihg'.*minimal.*max or off"):
        parse_level("hihg")


def test_cascades_never_ask_for_more_than_the_preference() -> None:
    assert cascade("max") == ("max", "xhigh", "high", "medium", "low")
    assert cascade("minimal") == ("minimal", "low")  # the one step up: nearly as cheap
    assert cascade(None) == ()
    for level in LEVELS:
        steps = cascade(level)
        assert steps[0] == level and "minimal" not in steps[1:]


def test_cap_lowers_only_what_is_above() -> None:
    assert (
        cap("max", "high") == "high" and cap("low", "high") == "low" and cap(None, "high") is None
    )


def test_choose_skips_refused_and_unsendable_levels() -> None:
    book = LevelBook()
    assert choose("max", book) == "max"  # nothing known: the preference itself
    book.refuse("max")
    assert choose("max", book, skip={"xhigh"}) == "high"
    assert first_unknown("max", book, skip={"xhigh"}) == "high"
    book.accept("high")
    assert first_unknown("max", book, skip={"xhigh"}) is None  # the answer is known
    book.refuse_all()
    assert choose("max", book) is None and book.takes_none()


def test_books_round_trip_and_drop_malformed_entries() -> None:
    book = LevelBook()
    book.accept("high", now=100.0)
    book.refuse("max", now=100.0)
    again = LevelBook.from_json(json.loads(json.dumps(book.to_json())))
    assert again.known == book.known
    hostile = {
        "high": {"ok": "yes", "at": 1},
        "rm -rf /": {"ok": True, "at": 1},
        "low": {"ok": True, "at": True},
        "max": [1, 2],
        "medium": {"ok": False, "at": 5},
    }
    assert LevelBook.from_json(hostile).known == {"medium": (False, 5.0)}
    assert LevelBook.from_json("garbage").known == {}


def test_store_keeps_answers_a_week(tmp_path: Path) -> None:
    store = EffortStore(tmp_path / "cache" / "effort.json", ttl_s=1000)
    book = LevelBook()
    book.accept("high", now=0.0)
    book.refuse("max", now=900.0)
    store.save("kimi@router", book, now=950.0)
    assert store.load("kimi@router", now=999.0).known == book.known
    assert store.load("kimi@router", now=1500.0).known == {"max": (False, 900.0)}
    assert store.load("other@x", now=999.0).known == {}
    # an empty book removes the model (``/effort`` asks again)
    store.save("kimi@router", LevelBook(), now=950.0)
    assert json.loads(store.path.read_text())["models"] == {}


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"version": 99, "models": {}}', '{"version": 1, "models": "x"}', ""],
)
def test_a_broken_cache_file_is_an_empty_store_and_gets_replaced(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "effort.json"
    path.write_text(content)
    store = EffortStore(path)
    assert store.load("m@").known == {}
    book = LevelBook()
    book.accept("low")
    store.save("m@", book)
    assert store.load("m@").get("low") is True


def test_a_cache_that_cannot_be_written_only_costs_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")  # works as root too, unlike a read-only directory
    store = EffortStore(blocker / "effort.json")
    book = LevelBook()
    book.accept("low")
    store.save("m@", book)  # logs, does not raise
    assert store.load("m@").known == {}
    assert list(tmp_path.iterdir()) == [blocker]  # no temporary file left behind
