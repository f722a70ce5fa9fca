"""``@hf:`` mentions: Hub cards fetched through the real huggingface_hub client from a fake
Hub on 127.0.0.1, attached after the user's message (size-capped, scrubbed, terminal-safe);
an id that is not on the Hub gives one line and the message still goes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.hub_mentions import (
    MAX_CARD_CHARS,
    MAX_CARDS,
    CardLookupError,
    card_message,
    fetch_all,
    parse,
)
from ml_intern_tui.core.protocol import UserInput
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.integrations.hub_cards import HubCardSource

MODEL_README = """---
license: apache-2.0
language: [en]
datasets: [org/reviews]
---
# Sentiment model

Fine-tuned DistilBERT on org/reviews. Accuracy 0.91.
"""
DATA_README = "---\nlicense: mit\n---\n# Reviews\n\n10k product reviews with labels.\n"


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    state = hub_repos.install(server)
    state.add_repo(
        "org/sentiment",
        files={"README.md": MODEL_README, "config.json": "{}", "model.safetensors": b"\0" * 10},
        info={
            "pipeline_tag": "text-classification",
            "library_name": "transformers",
            "downloads": 12345,
            "likes": 7,
            "tags": ["transformers", "license:apache-2.0", "en"],
            "lastModified": "2026-01-02T03:04:05.000Z",
            "cardData": {"license": "apache-2.0", "language": ["en"], "datasets": ["org/reviews"]},
        },
    )
    state.add_repo(
        "org/reviews",
        "dataset",
        files={"README.md": DATA_README, "train.csv": "text,label\n"},
        info={"downloads": 99, "cardData": {"license": "mit", "task_categories": ["text-classification"]}},
    )  # fmt: skip
    # The same id as a model and a dataset: the model by default, the dataset when asked.
    state.add_repo("org/both", files={"README.md": "# The model\n"})
    state.add_repo("org/both", "dataset", files={"README.md": "# The dataset\n"})
    state.add_repo("org/secret", files={"README.md": "# hidden\n"}, private=True)
    state.add_repo("org/bare", files={"weights.bin": b"\0"})
    return state


@pytest.fixture
def source(server: FakeHTTPServer, hub: hub_repos.FakeHubRepos) -> HubCardSource:
    return HubCardSource(HubClient(server.base_url, token_from_env=False))


def test_model_card_has_its_facts_and_text_without_the_yaml(source: HubCardSource) -> None:
    card = source.card("org/sentiment", None)
    assert card.kind == "model" and card.url.endswith("/org/sentiment")
    assert card.text.startswith("# Sentiment model") and "license: apache" not in card.text
    facts = "\n".join(card.facts)
    for expected in (
        "Model: org/sentiment",
        "Task: text-classification",
        "Library: transformers",
        "License: apache-2.0",
        "Datasets: org/reviews",
        "Downloads: 12,345",
        "Last modified: 2026-01-02",
        "Files (3): README.md, config.json, model.safetensors",
    ):
        assert expected in facts
    assert "license:apache" not in facts  # key:value tags are said once, by their own line


def test_an_id_that_is_no_model_is_looked_up_as_a_dataset(source: HubCardSource) -> None:
    card = source.card("org/reviews", None)
    assert card.kind == "dataset" and "/datasets/org/reviews" in card.url
    assert "10k product reviews" in card.text
    assert "License: mit" in card.facts and "Task: text-classification" in card.facts


def test_the_prefix_chooses_between_a_model_and_a_dataset(source: HubCardSource) -> None:
    assert source.card("org/both", None).text == "# The model"
    mention = parse("hf:datasets/org/both")
    assert (mention.repo_id, mention.kind) == ("org/both", "dataset")
    assert source.card(mention.repo_id, mention.kind).text == "# The dataset"
    assert parse("hf:models/org/both").kind == "model"


def test_unknown_private_and_cardless(source: HubCardSource) -> None:
    with pytest.raises(CardLookupError, match=r"no model or dataset org/nothing on the Hub"):
        source.card("org/nothing", None)
    with pytest.raises(CardLookupError, match="a private one needs /login"):
        source.card("org/secret", None)  # without the token it does not exist, as on the Hub
    with pytest.raises(CardLookupError, match=r"^no dataset org/sentiment"):
        source.card("org/sentiment", "dataset")
    bare = source.card("org/bare", None)  # no README: the facts still go
    assert bare.text == "" and "Files (1): weights.bin" in bare.facts
    assert "(The repository has no card text.)" in card_message([bare])


def test_a_server_error_is_one_line(source: HubCardSource, server: FakeHTTPServer) -> None:
    server.fail_next("GET", r"/api/models/org/sentiment", 500, "boom")
    with pytest.raises(CardLookupError) as err:
        source.card("org/sentiment", "model")
    assert "could not read it from the Hub" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "typed", ["hf:", "hf:../etc/passwd", "hf:org/na me", "hf:a/b/c", "hf:org/-x", "hf:org/x..y"]
)
def test_malformed_ids_are_refused_before_any_request(typed: str) -> None:
    class Never:
        def card(self, repo_id: str, kind: object) -> object:
            raise AssertionError("no request for a malformed id")

    ((name, problem),) = fetch_all(Never(), [typed])  # type: ignore[arg-type]
    assert name == typed and isinstance(problem, str) and problem


def test_a_hostile_card_is_cut_and_cannot_drive_a_terminal(
    source: HubCardSource, hub: hub_repos.FakeHubRepos
) -> None:
    hostile = "# Card\n\x1b]52;c;ZXZpbA==\x07\x1b[2J" + ("word " * 20 + "\n") * 2000
    hub.add_repo("evil/card", files={"README.md": hostile})
    message = card_message([source.card("evil/card", None)])
    assert "\x1b" not in message and "\x07" not in message and "␛]52" in message
    assert len(message) < MAX_CARD_CHARS + 2_000
    assert f"[card cut at {MAX_CARD_CHARS} characters" in message


def test_at_most_a_few_cards_per_message(source: HubCardSource) -> None:
    names = [f"hf:org/m{i}" for i in range(MAX_CARDS + 2)]
    results = fetch_all(source, names)
    assert [r for _, r in results[MAX_CARDS:]] == [f"over {MAX_CARDS} Hub cards in one message"] * 2


async def test_cards_reach_the_model_after_the_message_and_failures_are_one_line(
    fake_openai: FakeOpenAI,
    harness_factory,  # type: ignore[no-untyped-def]
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
) -> None:
    secret = "sk-live-" + "s3cr3t" * 6
    known_secrets.register(secret, "OPENAI_API_KEY")
    hub.add_repo("org/leaky", "dataset", files={"README.md": f"# Leaky\nkey={secret}\n"})
    fake_openai.enqueue(Reply(text="seen"))
    h = await harness_factory(hub={"endpoint": server.base_url})
    text = "compare @hf:org/sentiment with @hf:datasets/org/leaky and @hf:org/nothing"
    mentions = ["hf:org/sentiment", "hf:datasets/org/leaky", "hf:org/nothing"]
    h.submit(UserInput(text=text, mentions=mentions))
    await h.wait_for("turn_complete")
    sent = fake_openai.requests[0].body["messages"]
    assert sent[-2]["content"] == text  # the message goes as typed, first
    attached = sent[-1]["content"]
    assert '<hub_card repo="org/sentiment" type="model"' in attached
    assert "Fine-tuned DistilBERT" in attached and "Downloads: 12,345" in attached
    assert '<hub_card repo="org/leaky" type="dataset"' in attached
    assert secret not in str(sent)
    notices = [n.text for n in h.of("notice")]
    assert any(
        t.startswith(
            "Attached the Hub card of model org/sentiment, the Hub card of dataset org/leaky"
        )
        for t in notices
    )
    (missing,) = [t for t in notices if "not attached" in t]
    assert missing.startswith("@hf:org/nothing not attached: no model or dataset org/nothing")
