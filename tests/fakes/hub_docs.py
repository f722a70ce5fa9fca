"""A fake Hugging Face docs site: a doc set's main page with a sidebar and Markdown pages.

server = FakeHTTPServer()
docs = FakeDocs.install(server)          # /docs/trl and /docs/trl/<page>.md
docs.pages["new_page"] = "# New\\n..."    # change what the next crawl sees
docs.crawls()                             # how many times the main page was fetched
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

TRL_PAGES: dict[str, str] = {
    "index": """# TRL - Transformer Reinforcement Learning

TRL is a full stack library to post-train transformer language models with methods like
Supervised Fine-Tuning (SFT), Group Relative Policy Optimization (GRPO) and Direct
Preference Optimization (DPO).

## Installation[[installation]]

Install the library with `pip install trl`.
""",
    "sft_trainer": """# SFT Trainer

Supervised fine-tuning is the most common step of post-training.

## Quick start[[quick-start]]

```python
from trl import SFTTrainer
# a heading inside code must not split the page:
# Not a heading
trainer = SFTTrainer(model="Qwen/Qwen2-0.5B", train_dataset=dataset)
trainer.train()
```

## Dataset formats

The SFTTrainer accepts conversational datasets with a `messages` column and standard
language-modeling datasets with a `text` column. Packing concatenates examples.

## Train on completions only[[completion-only]]

Set `completion_only_loss=True` to compute the loss on the completion tokens only.
""",
    "dpo_trainer": """# DPO Trainer

Direct Preference Optimization trains a policy from preference pairs without a reward model.

## Expected dataset type

DPO needs a preference dataset with `prompt`, `chosen` and `rejected` columns.

## Loss functions

The `loss_type` argument selects sigmoid, hinge, ipo or robust losses; beta controls
how far the policy may drift from the reference model.
""",
    "grpo_trainer": """# GRPO Trainer

Group Relative Policy Optimization samples a group of completions per prompt and scores
them with reward functions.

## Reward functions

A reward function takes the completions and returns one float per completion. Several
reward functions can be combined with `reward_weights`.
""",
    "peft_integration": """# PEFT integration

Train adapters instead of the full model to save memory.

## LoRA

Pass a `LoraConfig` as `peft_config` to any trainer; `target_modules` chooses the layers
that receive low-rank adapters. QLoRA loads the base model in 4-bit first.
""",
    "logging": """# Logging

Trainers report metrics to trackio, wandb or tensorboard through `report_to`.

## Metrics

Each trainer logs its loss, learning rate and method-specific values such as rewards.
""",
}

SIDEBAR_ORDER = [
    "index",
    "sft_trainer",
    "dpo_trainer",
    "grpo_trainer",
    "peft_integration",
    "logging",
]


@dataclass
class FakeDocs:
    server: FakeHTTPServer
    doc_set: str = "trl"
    pages: dict[str, str] = field(default_factory=lambda: dict(TRL_PAGES))
    order: list[str] = field(default_factory=lambda: list(SIDEBAR_ORDER))
    with_nav: bool = True
    """False: the main page has no flex-auto nav (the parser falls back to all links)."""

    @classmethod
    def install(cls, server: FakeHTTPServer, doc_set: str = "trl") -> FakeDocs:
        docs = cls(server, doc_set)
        server.route("GET", rf"/docs/{doc_set}/?")(docs._main)
        server.route("GET", rf"/docs/{doc_set}/(?P<page>[\w/-]+)\.md")(docs._page)
        return docs

    def _main(self, req: FakeRequest) -> FakeResponse:
        links = "\n".join(
            f'<li><a href="/docs/{self.doc_set}/{name}">{name.replace("_", " ").title()}</a></li>'
            for name in self.order
        )
        nav_class = "flex-auto overflow-y-auto" if self.with_nav else "sidebar"
        html = f"""<!doctype html><html><body>
<header><a href="/">Hugging Face</a><a href="/docs/{self.doc_set}/elsewhere#x">promo</a>
<a href="https://example.com/docs/{self.doc_set}/external">ext</a></header>
<nav class="{nav_class}"><ul>{links}</ul></nav>
<main><h1>TRL</h1><a href="/docs/{self.doc_set}/{self.order[-1]}">last page</a></main>
</body></html>"""
        return FakeResponse.text(html, content_type="text/html")

    def _page(self, req: FakeRequest) -> FakeResponse:
        text = self.pages.get(req.group("page"))
        if text is None:
            return FakeResponse.error(404, "page not found")
        return FakeResponse.text(text, content_type="text/markdown")

    def crawls(self) -> int:
        """How many times the main page was fetched (one per index build)."""
        return len(self.server.calls("GET", rf"/docs/{self.doc_set}/?"))

    def page_fetches(self) -> int:
        return len(self.server.calls("GET", rf"/docs/{self.doc_set}/.+\.md"))
