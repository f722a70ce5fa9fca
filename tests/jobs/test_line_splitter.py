"""Turning process bytes into clean log lines, and bounding what a command prints."""

from __future__ import annotations

from pathlib import Path

from ml_intern_tui.jobs.local import LineSplitter, OutputCollector, strip_ansi


def test_strip_ansi_removes_colours_cursor_moves_and_titles() -> None:
    raw = "\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[K\x1b]0;title\x07 done\x1b[A\tTab"
    assert strip_ansi(raw) == "red green done\tTab"


def test_lines_split_across_chunks_and_utf8_split_mid_character() -> None:
    splitter = LineSplitter()
    data = "héllo\nwor".encode()
    assert splitter.feed(data[:2]) == []  # "h" + half of "é"
    assert splitter.feed(data[2:]) == ["héllo"]
    assert splitter.feed(b"ld\n\n") == ["world", ""]
    assert splitter.finish() == []


def test_carriage_return_progress_keeps_only_the_final_state() -> None:
    splitter = LineSplitter()
    lines = splitter.feed(b"epoch 1\n 10%|#    |\r 50%|###  |\r100%|#####|\nnext\n")
    assert lines == ["epoch 1", "100%|#####|", "next"]


def test_crlf_is_a_plain_newline_even_when_split_between_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"one\r\ntwo\r") == ["one"]
    assert splitter.feed(b"\nthree") == ["two"]
    assert splitter.finish() == ["three"]


def test_progress_snapshots_are_rate_limited_and_not_repeated() -> None:
    splitter = LineSplitter(progress_interval_s=2.0)
    assert splitter.feed(b"\r10%", now=100.0) == []  # no complete segment yet
    assert splitter.feed(b"\r20%", now=100.5) == ["10%"]
    assert splitter.feed(b"\r30%", now=101.0) == []  # too soon for another snapshot
    assert splitter.feed(b"\r40%", now=103.0) == ["30%"]
    assert splitter.feed(b"\n", now=103.1) == ["40%"]
    assert splitter.feed(b"\r50%\r", now=110.0) == ["50%"]
    assert splitter.feed(b"\n", now=110.1) == []  # already shown as a snapshot


def test_unterminated_last_line_is_emitted_at_the_end() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"\x1b[32mno newline") == []
    assert splitter.finish() == ["no newline"]


def test_collector_keeps_small_output_in_memory_without_spilling(tmp_path: Path) -> None:
    collector = OutputCollector(1000, lambda: tmp_path / "spill.txt")
    collector.add(["a", "b"])
    assert collector.text() == ("a\nb", False)
    assert collector.spill_path is None
    assert not (tmp_path / "spill.txt").exists()


def test_collector_cuts_head_and_tail_and_spills_everything(tmp_path: Path) -> None:
    collector = OutputCollector(400, lambda: tmp_path / "spill.txt")
    lines = [f"line {i:05d}" for i in range(1000)]
    collector.add(lines)
    text, cut = collector.text(hint="see the file")
    assert cut
    assert text.startswith("line 00000\n")
    assert text.endswith("line 00999")
    assert "characters cut here; see the file" in text
    assert len(text) < 600
    assert (tmp_path / "spill.txt").read_text().splitlines() == lines
    assert collector.lines == 1000
