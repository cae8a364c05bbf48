"""Mutation testing of the critical modules with mutmut, one module at a time (scripts/mutate).

Each module gets its own scratch folder var/mutate/<name>/ (links to the sources and tests and a
generated [tool.mutmut] section), so that mutmut runs only that module's fast unit tests: a
mutant costs the tests that cover its function, and a survivor costs all of them.

    python scripts/mutation.py modules          the critical modules, one a line
    python scripts/mutation.py prepare MODULE   make its scratch folder; print the folder
    python scripts/mutation.py report [MODULE...]   counts, score and the undetected mutants
    python scripts/mutation.py undetected MODULE    their names only (to check them again)

The score is detected / checked: detected when a test failed (killed) or hung (timeout); "no
tests" means no selected test runs that function and counts as undetected.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "var" / "mutate"
SENDING_TESTS = [
    "tests/unit/sending/test_state_machine.py",
    "tests/unit/sending/test_exactly_once_guards.py",
    "tests/unit/sending/test_batch_records.py",
    "tests/unit/sending/test_batch_loading.py",
    "tests/unit/sending/test_claims.py",
    "tests/unit/sending/test_runner.py",
]
# module -> the fast unit tests that judge its mutants
MODULES: dict[str, list[str]] = {
    "mailer/sending/batches.py": SENDING_TESTS,
    "mailer/sending/batch_repair.py": SENDING_TESTS,
    "mailer/sending/pipeline.py": SENDING_TESTS,
    "mailer/sending/payload.py": ["tests/unit/sending/test_payload.py"],
    "mailer/readers/links.py": [
        "tests/unit/readers/test_links.py",
        "tests/unit/core/test_foundation.py",
        "tests/unit/sending/test_payload.py",
        "tests/unit/web/test_unsubscribe.py",
    ],
    "mailer/events/policy.py": [
        "tests/unit/events/test_policy.py",
        "tests/unit/events/test_replays.py",
    ],
    "subscribers/status.py": [
        "tests/unit/subscribers/test_status_batch.py",
        "tests/unit/events/test_policy.py",
        "tests/unit/web/test_unsubscribe.py",
        "tests/unit/web/test_preferences.py",
    ],
    "subscribers/segments.py": [
        "tests/unit/subscribers/test_segment_parser.py",
        "tests/unit/subscribers/test_segments_property.py",
    ],
    "subscribers/import_rows.py": [
        "tests/unit/subscribers/test_importer.py",
        "tests/unit/subscribers/test_import_merge.py",
    ],
}
LINKED = ("mailer", "subscribers", "tests", "templates", "examples")
STATUS: dict[int | None, str] = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
}
STATUS |= {36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
STATUS |= {37: "caught by type check", None: "not checked"}
DETECTED = ("killed", "timeout", "caught by type check")
UNDETECTED = ("survived", "no tests", "suspicious")


def folder(module: str) -> Path:
    return SCRATCH / module.removesuffix(".py").replace("/", ".")


def prepare(module: str) -> Path:
    """The module's scratch folder: links to the code and a mutmut configuration of its own."""
    if module not in MODULES:
        raise SystemExit(f"{module}: not a critical module (see MODULES in {__file__})")
    where = folder(module)
    where.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if not (where / name).exists():
            (where / name).symlink_to(ROOT / name)
    lines = [
        "[tool.mutmut]",
        'source_paths = ["mailer", "subscribers"]',
        f"only_mutate = [{json.dumps(module)}]",
        'also_copy = ["templates", "examples"]',
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]',
        f"pytest_add_cli_args_test_selection = {json.dumps(MODULES[module])}",
    ]
    (where / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return where


def statuses(module: str) -> dict[str, str]:
    meta = folder(module) / "mutants" / f"{module}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: STATUS.get(code, "suspicious") for name, code in codes.items()}


def seconds(module: str) -> int | None:
    """Wall time of the module's last run (scripts/mutate writes it)."""
    found = folder(module) / "seconds"
    return int(found.read_text()) if found.exists() else None


def line(name: str, counts: Counter[str], took: int | None) -> str:
    detected = sum(counts[s] for s in DETECTED)
    checked = detected + sum(counts[s] for s in UNDETECTED)
    score = f"{100 * detected / checked:5.1f}%" if checked else "    -"
    return (
        f"{name:34} {sum(counts.values()):5} {counts['killed']:6} {counts['timeout']:4} "
        f"{counts['survived']:5} {counts['no tests']:5} {counts['not checked']:5}  {score}"
        f" {'' if took is None else took:>6}"
    )


def report(modules: list[str]) -> None:
    total: Counter[str] = Counter()
    undetected: list[str] = []
    print(
        f"{'module':34} {'all':>5} {'killed':>6} {'t/o':>4} {'surv':>5} {'none':>5} {'unrun':>5}"
        "  score   secs"
    )
    took = 0
    for module in modules:
        found = statuses(module)
        counts = Counter(found.values())
        total += counts
        took += seconds(module) or 0
        undetected += sorted(n for n, s in found.items() if s in UNDETECTED)
        print(line(module, counts, seconds(module)))
    print(line("total", total, took))
    print("\nundetected (in the module's folder: mutmut show NAME):")
    print("\n".join(f"  {name}" for name in undetected) or "  none")


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("report", [])
    if command == "modules":
        print("\n".join(MODULES))
    elif command == "prepare" and len(args) == 1:
        print(prepare(args[0]))
    elif command == "undetected" and len(args) == 1:
        print("\n".join(n for n, s in statuses(args[0]).items() if s in UNDETECTED))
    elif command == "report":
        report(args or list(MODULES))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
