"""The scripted model: step selection, research conversations, summaries, scenario files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.demo import scripted
from ml_intern_tui.demo.scripted import get_scenario
from ml_intern_tui.demo.steps import Scenario, Step, find_in_history


def test_steps_follow_the_number_of_assistant_messages() -> None:
    scenario = Scenario(name="t-steps", steps=[Step(text="one"), Step(text="two")])
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert scenario.step_for(history).text == "one"
    history.append({"role": "assistant", "content": "one"})
    assert scenario.step_for(history).text == "two"
    history.append({"role": "assistant", "content": "two"})
    assert scenario.step_for(history).text == scenario.closing


def test_research_conversation_gets_its_own_steps() -> None:
    scenario = Scenario(
        name="t-research", steps=[Step(text="main")], research_steps=[Step(text="sub")]
    )
    sub = [
        {"role": "system", "content": "You are the research sub-agent of ..."},
        {"role": "user", "content": "x"},
    ]
    assert scenario.step_for(sub).text == "sub"
    assert scenario.step_for([{"role": "system", "content": "main agent"}]).text == "main"


def test_callable_steps_see_the_history() -> None:
    scenario = Scenario(
        name="t-callable",
        steps=[lambda messages: Step(text=find_in_history(messages, r"id=(\w+)"))],
    )
    history = [{"role": "tool", "content": "started id=job42"}]
    assert scenario.step_for(history).text == "job42"


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="demo"):
        get_scenario("no-such-scenario")


def test_scenario_files_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        "from ml_intern_tui.demo.scripted import Scenario, Step\n"
        "def scenarios():\n"
        "    return [Scenario(name='from-file', steps=[Step(text='hello from a file')])]\n"
    )
    monkeypatch.setenv(scripted.SCENARIO_FILES_ENV, str(path))
    assert get_scenario("from-file").step_for([]).text == "hello from a file"
