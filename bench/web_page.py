"""web_fetch conversion benchmark: seconds to turn an HTML page into Markdown, by size.

Run with ``make bench`` (or ``python bench/web_page.py [--runs N]``). The pages look like
documentation: headings, paragraphs dense with inline markup and links, tables, code and
page chrome. The largest case is the default ``[web] max_page_bytes`` (5 MB); its target
says how long a model may wait for the biggest page web_fetch reads by default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from ml_intern_tui.integrations.web_page import html_to_markdown

SIZES: list[tuple[str, int, float]] = [
    ("100 kB page", 100_000, 0.1),
    ("1 MB page", 1_000_000, 0.8),
    ("5 MB page (the default limit)", 5_000_000, 4.0),
]


def doc_page(size: int) -> str:
    """Documentation-like HTML of about ``size`` bytes."""
    head = (
        "<!doctype html><html><head><title>Guide</title><style>p{margin:0}</style>"
        "<script>var x = 1;</script></head><body><header><nav>"
        + "".join(f'<a href="/nav/{i}">Section {i}</a>' for i in range(40))
        + "</nav></header><main>"
    )
    parts = [head]
    total = len(head)
    n = 0
    while total < size:
        n += 1
        block = [f'<h2 id="s{n}">Step {n}: configure the trainer</h2>']
        for k in range(6):
            block.append(
                f"<p>Set <code>learning_rate</code> to <b>{k}e-5</b> and read "
                f'<a href="/docs/trl/{n}-{k}">the trainer docs</a>; <em>gradient '
                "accumulation</em> keeps the effective batch size while memory stays low, "
                "so larger models fit on one GPU.</p>"
            )
        block.append(
            "<table><thead><tr><th>model</th><th>lr</th><th>score</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>model-{r}</td><td>{r}e-5</td><td>{50 + r}</td></tr>" for r in range(8)
            )
            + "</tbody></table>"
        )
        block.append(
            '<pre><code class="language-python">trainer = SFTTrainer(model, args=args)\n'
            "trainer.train()\n</code></pre><ul><li>one</li><li>two<ul><li>three</li></ul></li></ul>"
        )
        parts.append("".join(block))
        total += len(parts[-1])
    parts.append("</main><footer>© docs</footer></body></html>")
    return "".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    html_to_markdown("<p>warm</p>", "https://example.com/")  # imports lxml and html_to_markdown
    header = f"{'case':<34} {'median':>8} {'min':>8} {'MB/s':>6} {'target':>8} {'vs target':>10}"
    print(header)
    print("-" * len(header))
    failed = 0
    for name, size, target in SIZES:
        page = doc_page(size)
        times = []
        for _ in range(opts.runs):
            start = time.perf_counter()
            html_to_markdown(page, "https://docs.example.com/guide")
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        ok = median <= target
        failed += not ok
        print(
            f"{name:<34} {median:>7.3f}s {min(times):>7.3f}s {len(page) / 1e6 / median:>6.2f} "
            f"{target:>7.2f}s {median / target:>9.2f}x{'' if ok else ' OVER'}"
        )
    print(f"\n{opts.runs} runs each; python {sys.version.split()[0]}; {os.cpu_count()} cores")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
