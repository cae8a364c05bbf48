"""Summarise mutmut's results (mutants/*.meta) for the critical modules: counts, score, survivors.

`--modules` prints the modules listed as only_mutate in pyproject.toml (scripts/mutate's default).
The score is detected / checked: a mutant is detected when a test failed (killed) or hung
(timeout); "no tests" means no fast unit test runs that function and counts as not detected.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS |= {36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
STATUS |= {37: "caught by type check", None: "not checked"}
DETECTED = ("killed", "timeout", "caught by type check")
UNDETECTED = ("survived", "no tests", "suspicious")


def critical_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def statuses(module: str) -> dict[str, str]:
    meta = ROOT / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: STATUS.get(code, "suspicious") for name, code in codes.items()}


def line(name: str, counts: Counter[str]) -> str:
    detected = sum(counts[s] for s in DETECTED)
    checked = detected + sum(counts[s] for s in UNDETECTED)
    score = f"{100 * detected / checked:5.1f}%" if checked else "    -"
    return (
        f"{name:34} {sum(counts.values()):5} {counts['killed']:6} {counts['timeout']:4} "
        f"{counts['survived']:5} {counts['no tests']:5} {counts['not checked']:5}  {score}"
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--modules"]:
        print("\n".join(critical_modules()))
        return 0
    modules = argv or critical_modules()
    total: Counter[str] = Counter()
    survivors: list[str] = []
    print(
        f"{'module':34} {'all':>5} {'killed':>6} {'t/o':>4} {'surv':>5} {'none':>5} {'unrun':>5}"
        "  score"
    )
    for module in modules:
        found = statuses(module)
        counts = Counter(found.values())
        total += counts
        survivors += sorted(n for n, s in found.items() if s in UNDETECTED)
        print(line(module, counts))
    print(line("total", total))
    print("\nundetected (mutmut show NAME for the change):")
    print("\n".join(f"  {name}" for name in survivors) or "  none")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
