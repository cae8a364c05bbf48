"""Benchmark: median time to render the example issue (parse + MJML + inline CSS + text).

Plain Python, prints figures; run `.venv/bin/python bench/render.py [RUNS]` (pinned to one
core where the OS allows it).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailer.issue.lint import sent_size  # noqa: E402
from mailer.issue.parse import parse_issue  # noqa: E402
from mailer.issue.render import (  # noqa: E402
    Branding,
    inline_css,
    mjml_to_html,
    render_file,
    render_mjml,
    render_text,
)

EXAMPLE = ROOT / "examples" / "issues" / "2026-11-30-weekly.md"
BRAND = Branding(postal_address="1 Example Street, Lyon", postal_address_is_placeholder=False)


def timed(function: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    render_file(EXAMPLE, BRAND)  # warm-up: imports, template compilation, CSS parse cache
    total = timed(lambda: render_file(EXAMPLE, BRAND), runs)
    issue = parse_issue(EXAMPLE)
    mjml = render_mjml(issue, BRAND)
    raw = mjml_to_html(mjml)
    stages = {
        "parse": timed(lambda: parse_issue(EXAMPLE), runs),
        "jinja -> MJML": timed(lambda: render_mjml(issue, BRAND), runs),
        "MJML -> HTML": timed(lambda: mjml_to_html(mjml), runs),
        "premailer inline": timed(lambda: inline_css(raw), runs),
        "text part": timed(lambda: render_text(issue, BRAND), runs),
    }
    rendered = render_file(EXAMPLE, BRAND)
    html_bytes = len(rendered.html.encode("utf-8"))
    print(f"example issue: {EXAMPLE.relative_to(ROOT)}, {runs} runs, 1 core of {os.cpu_count()}")
    print(
        f"render (parse + MJML + inline + text + lint): median {statistics.median(total):.1f} ms,"
        f" p95 {sorted(total)[int(runs * 0.95) - 1]:.1f} ms  (target: median <= 50 ms)"
    )
    for name, samples in stages.items():
        print(f"  {name:<18} median {statistics.median(samples):6.2f} ms")
    print(
        f"HTML: {html_bytes / 1024:.1f} KB ({html_bytes} bytes); with recipient links filled in "
        f"~{sent_size(rendered.html) / 1024:.1f} KB; Gmail clips at 102 KB"
    )
    print(f"text part: {len(rendered.text.encode('utf-8')) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
