"""A long resumed chat is folded in slices (the screen draws between them), and the sliced
fold is exactly the chat the fold made in one go."""

from __future__ import annotations

import asyncio
import random

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets import chat
from ml_intern_tui.tui.widgets.chat import FOLD_SLICE
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config
from tui.test_resume_history import described, last_text, random_session

BLOCKS = 30
LENGTH = 4 * FOLD_SLICE + 37


async def resume(
    app: MLInternApp, runtime: FakeRuntime, pilot: object, name: str, history: p.History
) -> list[tuple[str, str]]:
    """Resume ``history`` as session ``name``; the chat's blocks once it is shown."""
    history = history.model_copy(update={"session_id": name})
    runtime.publish(runtime.ready(resumed=True, session_id=name), history)
    runtime.publish(p.Notice(text=f"end of {name}"))
    await wait_for(pilot, lambda: f"end of {name}" in last_text(app))  # type: ignore[arg-type]
    await wait_for(pilot, lambda: len(app.chat.blocks) == BLOCKS)  # type: ignore[arg-type]
    return described(app.chat.blocks)


async def test_a_sliced_fold_is_the_fold_in_one_go_and_lets_the_loop_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = FakeRuntime(make_config(ui={"max_chat_blocks": BLOCKS}))
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        for seed in range(2):
            events = random_session(random.Random(seed), LENGTH)
            history = session_history(events, chat_blocks=LENGTH).model_copy(
                update={"chat_from": 0}  # every event folded: several slices
            )
            with monkeypatch.context() as patch:
                patch.setattr(chat, "FOLD_SLICE", 10**9)  # the fold in one go
                whole = await resume(app, runtime, pilot, f"whole-{seed}", history)
            turns_during_fold = 0
            stop = asyncio.Event()

            async def count_turns(stop: asyncio.Event = stop) -> None:
                nonlocal turns_during_fold
                while not stop.is_set():
                    if app.chat._folding is not None:
                        turns_during_fold += 1
                    await asyncio.sleep(0)

            counter = asyncio.create_task(count_turns())
            sliced = await resume(app, runtime, pilot, f"sliced-{seed}", history)
            stop.set()
            await counter
            assert sliced[:-1] == whole[:-1], seed  # the notices name the session
            # The fold gave the loop turns between slices (one slice is not all of it).
            assert turns_during_fold >= 1, seed
