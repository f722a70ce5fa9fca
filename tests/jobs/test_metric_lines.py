"""Reading metrics out of log lines as trainers really print them, and refusing look-alikes."""

from __future__ import annotations

import math
import time

import pytest

from ml_intern_tui.jobs.local import LineSplitter, Redraw
from ml_intern_tui.jobs.metric_lines import MAX_PARSE_CHARS, parse_line, parse_progress

# ---------------------------------------------------------------- what trainers print

TRAINER_LINES = [
    # transformers Trainer before 4.5x: raw floats (ProgressCallback writes str(logs))
    (
        "{'loss': 0.6931, 'grad_norm': 1.2345, 'learning_rate': 2e-05, 'epoch': 0.12}",
        {"loss": 0.6931, "grad_norm": 1.2345, "learning_rate": 2e-05},
        0.12,
    ),
    # newer transformers format floats as strings with .4g
    (
        "{'loss': '0.4123', 'grad_norm': '1.234', 'learning_rate': '1.8e-05', 'epoch': '1.2'}",
        {"loss": 0.4123, "grad_norm": 1.234, "learning_rate": 1.8e-05},
        1.2,
    ),
    # numpy 2 scalars and tensors in the dict
    (
        "{'loss': np.float64(0.5), 'grad_norm': tensor(3.25, device='cuda:0'), 'epoch': 0.5}",
        {"loss": 0.5, "grad_norm": 3.25},
        0.5,
    ),
    (
        "{'eval_loss': 0.3012, 'eval_accuracy': 0.912, 'eval_runtime': 4.21, "
        "'eval_samples_per_second': 237.5, 'eval_steps_per_second': 7.43, 'epoch': 1.0}",
        {
            "eval_loss": 0.3012,
            "eval_accuracy": 0.912,
            "eval_runtime": 4.21,
            "eval_samples_per_second": 237.5,
            "eval_steps_per_second": 7.43,
        },
        1.0,
    ),
    (
        "{'train_runtime': 120.5, 'train_samples_per_second': 33.2, "
        "'train_steps_per_second': 4.15, 'train_loss': 0.5213, 'epoch': 3.0}",
        {
            "train_runtime": 120.5,
            "train_samples_per_second": 33.2,
            "train_steps_per_second": 4.15,
            "train_loss": 0.5213,
        },
        3.0,
    ),
    # TRL SFT
    (
        "{'loss': '1.873', 'grad_norm': '0.9', 'learning_rate': '0.0002', 'num_tokens': "
        "'1.2e+05', 'mean_token_accuracy': '0.5912', 'epoch': '0.08'}",
        {
            "loss": 1.873,
            "grad_norm": 0.9,
            "learning_rate": 0.0002,
            "num_tokens": 1.2e05,
            "mean_token_accuracy": 0.5912,
        },
        0.08,
    ),
    # TRL DPO: keys with slashes, negative values
    (
        "{'loss': 0.6931, 'grad_norm': 3.1, 'learning_rate': 5e-07, 'rewards/chosen': 0.01, "
        "'rewards/rejected': -0.02, 'rewards/accuracies': 0.6, 'rewards/margins': 0.03, "
        "'logps/chosen': -120.5, 'logps/rejected': -131.25, 'epoch': 0.02}",
        {
            "loss": 0.6931,
            "grad_norm": 3.1,
            "learning_rate": 5e-07,
            "rewards/chosen": 0.01,
            "rewards/rejected": -0.02,
            "rewards/accuracies": 0.6,
            "rewards/margins": 0.03,
            "logps/chosen": -120.5,
            "logps/rejected": -131.25,
        },
        0.02,
    ),
    # TRL GRPO
    (
        "{'loss': '0', 'grad_norm': '0.3512', 'learning_rate': '1e-06', "
        "'completions/mean_length': '120.5', 'rewards/accuracy_reward/mean': '0.25', "
        "'reward': '0.25', 'reward_std': '0.4301', 'kl': '0.0012', 'entropy': '0.9', "
        "'epoch': '0.01'}",
        {
            "loss": 0.0,
            "grad_norm": 0.3512,
            "learning_rate": 1e-06,
            "completions/mean_length": 120.5,
            "rewards/accuracy_reward/mean": 0.25,
            "reward": 0.25,
            "reward_std": 0.4301,
            "kl": 0.0012,
            "entropy": 0.9,
        },
        0.01,
    ),
]


@pytest.mark.parametrize(("line", "values", "epoch"), TRAINER_LINES)
def test_trainer_and_trl_dict_lines(line: str, values: dict[str, float], epoch: float) -> None:
    parsed = parse_line(line)
    assert parsed is not None
    assert parsed.values == values
    assert parsed.epoch == epoch
    assert parsed.step is None


@pytest.mark.parametrize(
    ("line", "values", "step", "epoch"),
    [
        ("epoch 7/12 loss=0.2778 val_acc=0.896", {"loss": 0.2778, "val_acc": 0.896}, None, 7),
        ("step=120 loss=0.43 lr=3e-4", {"loss": 0.43, "lr": 3e-4}, 120, None),
        (
            "global_step: 500 | train_loss: 1.02 | grad_norm: 0.7",
            {"train_loss": 1.02, "grad_norm": 0.7},
            500,
            None,
        ),
        # nanoGPT
        ("iter 100: loss 2.3451, time 120.34ms, mfu 12.34%", {"loss": 2.3451}, 100, None),
        (
            "step 250: train loss 1.9681, val loss 2.0793",
            {"train_loss": 1.9681, "val_loss": 2.0793},
            250,
            None,
        ),
        # accelerate's examples
        (
            "epoch 0: {'accuracy': 0.7598, 'f1': 0.8395}",
            {"accuracy": 0.7598, "f1": 0.8395},
            None,
            0,
        ),
        ("epoch 2 train loss: 0.5321", {"train_loss": 0.5321}, None, 2),
        (
            "03/12/2024 10:00:00 - INFO - __main__ - epoch 1: {'accuracy': 0.84, 'f1': 0.88}",
            {"accuracy": 0.84, "f1": 0.88},
            None,
            1,
        ),
        # JSON lines
        ('{"step": 10, "loss": 0.41, "lr": 0.0003}', {"loss": 0.41, "lr": 0.0003}, 10, None),
        ('{"global_step": 30, "metrics": {"eval/bleu": 21.5}}', {"eval/bleu": 21.5}, 30, None),
        ('{"step": 5, "loss": NaN}', {"loss": math.nan}, 5, None),
        # Keras
        (
            "100/100 [==============================] - 2s 15ms/step - loss: 0.2345 - "
            "accuracy: 0.9123 - val_loss: 0.3000 - val_accuracy: 0.8800",
            {"loss": 0.2345, "accuracy": 0.9123, "val_loss": 0.3, "val_accuracy": 0.88},
            None,
            None,
        ),
        ("accuracy: 91.2%", {"accuracy": 91.2}, None, None),
        ("loss=inf", {"loss": math.inf}, None, None),
    ],
)
def test_plain_script_lines(
    line: str, values: dict[str, float], step: float | None, epoch: float | None
) -> None:
    parsed = parse_line(line)
    assert parsed is not None
    assert parsed.values.keys() == values.keys()
    for key, value in values.items():
        got = parsed.values[key]
        assert (math.isnan(got) and math.isnan(value)) or got == value, key
    assert parsed.step == step
    assert parsed.epoch == epoch


# ---------------------------------------------------------------- progress bars


@pytest.mark.parametrize(
    ("line", "n", "total", "eta", "rate"),
    [
        (" 37%|███▋      | 370/1000 [01:02<01:46,  5.90it/s]", 370, 1000, 106, 5.9),
        (" 12%|█▏        | 120/1000 [00:20<02:30,  2.00s/it]", 120, 1000, 150, 0.5),
        ("  0%|          | 0/500 [00:00<?, ?it/s]", 0, 500, None, None),
        ("100%|██████████| 500/500 [1:02:03<00:00,  7.43it/s]", 500, 500, 0, 7.43),
        (" 37/100 [=========>....................] - ETA: 1:46 - loss: 0.41", 37, 100, 106, None),
        (" 37/100 ━━━━━━━━━━━━━━━━━━━━ 12s 210ms/step - loss: 0.41", 37, 100, None, None),
        ("370it [01:02, 5.90it/s]", 370, None, None, 5.9),
    ],
)
def test_progress_bars(
    line: str, n: float, total: float | None, eta: float | None, rate: float | None
) -> None:
    progress = parse_progress(line)
    assert progress is not None
    assert (progress.n, progress.total, progress.eta_s) == (n, total, eta)
    assert progress.rate == pytest.approx(rate) if rate is not None else progress.rate is None
    if total:
        assert progress.fraction == pytest.approx(n / total)


def test_lightning_bar_gives_progress_epoch_and_postfix_metrics() -> None:
    parsed = parse_line(
        "Epoch 1:  45%|████▌     | 45/100 [00:10<00:12, 4.42it/s, v_num=0, train_loss=0.512]"
    )
    assert parsed is not None
    assert parsed.progress is not None and (parsed.progress.n, parsed.progress.total) == (45, 100)
    assert parsed.epoch == 1
    assert parsed.values == {"train_loss": 0.512}  # v_num is Lightning's version, not a metric


@pytest.mark.parametrize(
    "line",
    [
        "Downloading model.safetensors:  45%|████      | 1.20G/2.50G [00:10<00:12, 120MB/s]",
        "Map: 100%|██████████| 1000/1000 [00:00<00:00, 5000.00 examples/s]",
        "Loading checkpoint shards: 100%|██████████| 2/2 [00:01<00:00,  1.50it/s]",
        "Fetching 4 files: 100%|██████████| 4/4 [00:00<00:00, 12.1it/s]",
        "Tokenizing train dataset:  50%|█████     | 500/1000 [00:01<00:01, 400.00 examples/s]",
    ],
)
def test_bars_that_are_not_training_are_ignored(line: str) -> None:
    assert parse_progress(line) is None
    parsed = parse_line(line)
    assert parsed is None or parsed.progress is None


def test_colours_and_carriage_return_redraws_read_as_on_a_terminal() -> None:
    chunks = [
        b"\x1b[34m 10%|\xe2\x96\x88         | 100/1000 [00:10<01:30,  9.90it/s]\x1b[0m\r",
        b"\x1b[34m 20%|\xe2\x96\x88\xe2\x96\x88        | 200/1000 [00:20<01:2",
        b"0,  9.95it/s]\x1b[0m\r",
        b"{'loss': 0.41, 'learning_rate': 2e-05, 'epoch': 0.2}\n",
        b"\x1b[1;32mstep=300 loss=\x1b[0m\x1b[33m0.39\x1b[0m\n",
    ]
    splitter = LineSplitter(redraws=True)
    items = [item for chunk in chunks for item in splitter.feed(chunk)]
    # Each overwritten bar comes back in its place among the lines, colours stripped.
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["Redraw", "Redraw", "str", "str"]
    bars = [parse_progress(item) for item in items if isinstance(item, Redraw)]
    assert [bar.n for bar in bars if bar is not None] == [100.0, 200.0]
    values = [p.values for p in map(parse_line, items[2:]) if p is not None]
    assert values == [{"loss": 0.41, "learning_rate": 2e-05}, {"loss": 0.39}]
    # A line that kept its redraws (HF Jobs logs arrive as whole lines): the last state wins.
    line = " 10%|█ | 100/1000 [00:10<01:30, 9.9it/s]\r 20%|██ | 200/1000 [00:20<01:20, 9.9it/s]"
    parsed = parse_line(line)
    assert parsed is not None and parsed.progress is not None and parsed.progress.n == 200


def test_interleaved_stderr_keeps_what_is_whole() -> None:
    """A bar redraw cut into a metric line: the pairs still whole are read, nothing else."""
    line = (
        "{'loss': 0.41, 'grad_n 37%|███▋ | 370/1000 [01:02<01:46, 5.9it/s]orm': 1.2, 'epoch': 0.4}"
    )
    parsed = parse_line(line)
    assert parsed is not None
    assert parsed.values.get("loss") == 0.41
    assert "grad_norm" not in parsed.values


# ---------------------------------------------------------------- not metrics


@pytest.mark.parametrize(
    "line",
    [
        "HF_HUB_ENABLE_HF_TRANSFER=1",
        "export CUDA_VISIBLE_DEVICES=0",
        "Serving on http://localhost:8080/api",
        "Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
        "connecting to example.com:443 ...",
        "2024-01-01 12:34:56,789 - INFO - __main__ - starting",
        "[2024-05-01T10:11:12.345Z] worker ready",
        "elapsed 01:02:03",
        "transformers version: 4.46.0",
        "torch==2.1.0+cu121",
        "Python 3.11.4",
        "Total params: 124,439,808",
        "Trainable params: 1.2M",
        "Setting max_length=512 for the tokenizer",
        "num_train_epochs=3",
        "python train.py --lr=3e-4 --epochs=3",
        "pid: 12345",
        "rank=0 world_size=8 local_rank=0",
        "See https://huggingface.co/docs/transformers?x=1&y=2 for details",
        "x = 1",
        "Error: file not found: /data/train.csv:12",
        "The quick brown fox: jumps over the lazy dog.",
        "",
        "  ",
    ],
)
def test_ordinary_text_is_not_a_metric(line: str) -> None:
    assert parse_line(line) is None


# ---------------------------------------------------------------- hostile logs


def test_huge_lines_are_skipped_fast() -> None:
    line = "loss=0.5 " * (MAX_PARSE_CHARS // 9 + 10)
    assert parse_line(line) is None
    started = time.perf_counter()
    for _ in range(100):
        parse_line("x" * 100_000)
    assert time.perf_counter() - started < 1.0


def test_pathological_lines_do_not_backtrack() -> None:
    """Inputs shaped to make a regex backtrack stay linear."""
    samples = [
        "a" * 8000 + "=",
        "a:" * 4000,
        "=" * 8000,
        "'" * 8000 + ": 1",
        "1" * 8000 + "%|",
        "9/" * 4000 + " [",
        "loss 1" * 1300,
        "x." * 4000 + "=1",
    ]
    started = time.perf_counter()
    for sample in samples:
        parse_line(sample)
    assert time.perf_counter() - started < 1.0


def test_a_line_with_thousands_of_pairs_yields_a_bounded_number() -> None:
    line = " ".join(f"metric{i}_loss={i}" for i in range(1000))[:MAX_PARSE_CHARS]
    parsed = parse_line(line)
    assert parsed is not None
    assert 0 < len(parsed.values) <= 64


def test_keys_are_bounded_and_never_control_characters() -> None:
    long_key = "k" * 200
    assert parse_line(f"{long_key}_loss=1.0") is None
    parsed = parse_line("lo\x1bss=1 acc\x07=2 loss=3")
    assert parsed is not None
    assert all(key.isprintable() for key in parsed.values)
