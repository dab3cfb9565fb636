#!/usr/bin/env python3
"""Helpers of scripts/bench.sh: checks that the funnel counts agree, and prints the results table.

report.py compare REFERENCE_NAME=FILE NAME=FILE...
    Each FILE is either snowfunnel's funnel CSV (experiment,funnel,variant,step,step_name,keys,...)
    or a peer's counts CSV (variant,step,keys). Prints OK, or FAIL and every differing
    (variant, step) row; exits 1 on a difference (or when a file is missing or empty).

report.py table RUN_DIR
    Reads RUN_DIR/time/<tool>.time (GNU time: wall user sys maxrss_kb per line, one line per
    repetition) and RUN_DIR/facts.env, prints the markdown table (tools, then ratios against
    the issue's targets; with a baseline build, its rows and a before/after section). Tools
    without timings print as skipped, or not at all when the run left them out on purpose
    (BENCH_ONLY, no baseline, BENCH_ISAL=0). Standard library only.

report.py summary TIME_FILE...
    For each TIME_FILE (GNU time lines as above), prints "STEM WALL CPU RSS_MB": the median wall
    and CPU seconds and the largest peak RSS over its repetitions, STEM being the file's name
    without its extension (scripts/bench-s3.sh uses it).
"""

from __future__ import annotations

import csv
import re
import statistics
import sys
from pathlib import Path

# Tools in table order: (file stem, label, threads).
TOOLS = [
    ("snowfunnel-1t", "snowfunnel run", "1"),
    ("snowfunnel-2t", "snowfunnel run", "2"),
    # snowfunnel built at BENCH_BASELINE; "@" is followed by its short hash.
    ("baseline-1t", "snowfunnel run @", "1"),
    ("baseline-2t", "snowfunnel run @", "2"),
    # snowfunnel built with the `isal` feature (gzip inflated by ISA-L).
    ("isal-1t", "snowfunnel run, isal build", "1"),
    ("isal-2t", "snowfunnel run, isal build", "2"),
    ("floor-1t", "inflate floor (flate2 zlib-rs)", "1"),
    ("floor-2t", "inflate floor (flate2 zlib-rs)", "2"),
    ("libdeflate", "libdeflate-gunzip -c", "1"),
    ("igzip", "igzip -d -c (ISA-L)", "1"),
    ("duckdb", "DuckDB (read_csv + JSON + SQL)", "2"),
    ("chdb", "chdb (file() + JSONExtract + SQL)", "2"),
    ("snowfunnel-plain-1t", "snowfunnel run, plain TSV input", "1"),
    # The same lines in one file of one gzip member: a file is inflated by one thread whatever
    # the thread count (the parsers take its chunks as they come).
    ("single-1t", "snowfunnel run, one single-member gzip file", "1"),
    ("single-2t", "snowfunnel run, one single-member gzip file", "2"),
    ("isal-single-1t", "snowfunnel run, isal build, one single-member gzip file", "1"),
    ("isal-single-2t", "snowfunnel run, isal build, one single-member gzip file", "2"),
    ("floor-single-1t", "inflate floor (flate2 zlib-rs), one single-member gzip file", "1"),
]


# ---------------------------------------------------------------------------------------------
# compare


def read_counts(path: Path) -> dict[tuple[str, int], int]:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["variant"], int(r["step"])): int(r["keys"]) for r in rows}


def compare(args: list[str]) -> int:
    named = []
    for arg in args:
        name, _, file = arg.partition("=")
        path = Path(file)
        if not path.is_file():
            print(f"FAIL: {name}: no counts file ({file})")
            return 1
        named.append((name, read_counts(path)))
    ref_name, ref = named[0]
    if not ref:
        print(f"FAIL: {ref_name} produced no rows")
        return 1
    cells = sorted(set().union(*(counts.keys() for _, counts in named)), key=lambda k: (k[0], k[1]))
    differing = [cell for cell in cells if len({counts.get(cell) for _, counts in named}) > 1]
    names = ", ".join(name for name, _ in named)
    if not differing:
        total = sum(ref.values())
        print(f"OK: identical counts for {len(cells)} (variant, step) rows from {names}")
        if total == 0:
            print("WARNING: every count is 0: the check proves little")
        return 0
    print(f"FAIL: the counts differ on {len(differing)} of {len(cells)} (variant, step) rows")
    header = ["variant", "step"] + [name for name, _ in named]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cell in differing:
        values = ["missing" if counts.get(cell) is None else str(counts[cell]) for _, counts in named]
        print(f"| {cell[0]} | {cell[1]} | " + " | ".join(values) + " |")
    return 1


# ---------------------------------------------------------------------------------------------
# table


def read_facts(path: Path) -> dict[str, str]:
    facts = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key.strip()] = value.strip()
    return facts


def read_runs(path: Path) -> list[dict[str, float]]:
    """Each repetition's wall and CPU (user + sys) seconds and peak RSS in MB, in run order."""
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and all(re.fullmatch(r"[0-9.]+", p) for p in parts):
            wall, user, sys_, rss_kb = map(float, parts)
            runs.append({"wall": wall, "cpu": user + sys_, "rss_mb": rss_kb * 1024 / 1e6})
    return runs


def read_time(path: Path) -> dict[str, float] | None:
    """Over the repetitions: the median wall and CPU (user + sys) seconds, each on its own, and
    the largest peak RSS in MB. Medians, because single runs on a shared machine vary by 5-10%
    and the fastest run favours whichever tool happened to meet a quiet moment."""
    runs = read_runs(path)
    if not runs:
        return None
    return {
        "wall": statistics.median(r["wall"] for r in runs),
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "runs": len(runs),
    }


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table(run_dir: Path) -> int:
    facts = read_facts(run_dir / "facts.env")
    uncompressed = float(facts.get("uncompressed_bytes", "0") or 0)
    compressed = float(facts.get("compressed_bytes", "0") or 0)
    times = {stem: read_time(run_dir / "time" / f"{stem}.time") for stem, _, _ in TOOLS}
    notes = {stem: facts.get(f"note_{stem}", "") for stem, _, _ in TOOLS}
    only = facts.get("only", "")  # BENCH_ONLY: the tools it leaves out are not listed
    baseline = facts.get("baseline_rev", "")

    def left_out(stem: str) -> bool:
        return times[stem] is None and (
            bool(only) or (stem.startswith("baseline-") and not baseline) or stem.startswith("isal-")
        )

    def gbps(stem: str) -> float | None:
        t = times.get(stem)
        return uncompressed / 1e9 / t["wall"] if t and t["wall"] > 0 and uncompressed else None

    runs = max((t["runs"] for t in times.values() if t), default=1)
    print(f"### snowfunnel throughput: `scripts/bench.sh {facts.get('size', '?')}`")
    print()
    print(
        f"Data: {facts.get('lines', '?')} lines in {facts.get('files', '?')} gzip files, "
        f"{uncompressed / 1e9:.3f} GB uncompressed, {compressed / 1e6:.1f} MB compressed "
        f"(ratio {uncompressed / compressed if compressed else 0:.1f}); generator seed {facts.get('seed', '?')}; "
        f"funnel `{facts.get('funnel', '?')}`."
    )
    print(
        f"Machine: {facts.get('cpu_model', '?')}, {facts.get('cores', '?')} cores; "
        f"CPU {facts.get('busy_before', '?')}% busy (other processes) just before the runs; "
        f"{facts.get('versions', '')}."
    )
    if runs > 1:
        print(f"{runs} rounds, each running every tool in turn; wall and CPU are each tool's medians, peak RSS its largest.")
    print()
    print("| tool | threads | wall s | CPU s (user+sys) | peak RSS MB | GB/s (uncompressed, wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    for stem, label, threads in TOOLS:
        if left_out(stem):
            continue
        if stem.startswith("baseline-"):
            label = f"{label} {baseline or '?'}"
        t = times[stem]
        if t is None:
            print(f"| {label} | {threads} | skipped | | | {notes[stem]} |")
            continue
        print(f"| {label} | {threads} | {t['wall']:.2f} | {t['cpu']:.2f} | {t['rss_mb']:.0f} | {fmt(gbps(stem))} |")
    print()

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def get(stem: str, key: str) -> float | None:
        t = times.get(stem)
        return t[key] if t else None

    sf2_wall = get("snowfunnel-2t", "wall")
    keys = facts.get("distinct_keys", "")
    rss_per_key = None
    if keys.isdigit() and int(keys) > 0 and get("snowfunnel-2t", "rss_mb") is not None:
        rss_per_key = get("snowfunnel-2t", "rss_mb") * 1e6 / int(keys)
    # Issue 20's targets: the default build, then the `isal` build (gzip inflated by ISA-L).
    rows = [
        (
            "snowfunnel (1t) CPU / inflate floor (1t) CPU",
            ratio(get("snowfunnel-1t", "cpu"), get("floor-1t", "cpu")),
            "<=",
            1.15,
        ),
        ("snowfunnel 2t throughput / 1t throughput", ratio(gbps("snowfunnel-2t"), gbps("snowfunnel-1t")), ">=", 1.8),
        ("snowfunnel (2t) peak RSS MB", get("snowfunnel-2t", "rss_mb"), "<=", 200.0),
        ("DuckDB wall / snowfunnel (2t) wall", ratio(get("duckdb", "wall"), sf2_wall), ">=", 4.5),
        ("chdb wall / snowfunnel (2t) wall", ratio(get("chdb", "wall"), sf2_wall), ">=", 6.0),
        # The whole run in less CPU than zlib-rs inflating alone.
        ("isal build (1t) CPU / inflate floor (1t) CPU", ratio(get("isal-1t", "cpu"), get("floor-1t", "cpu")), "<=", 1.0),
        ("isal build (1t) CPU / igzip CPU", ratio(get("isal-1t", "cpu"), get("igzip", "cpu")), "", None),
        ("DuckDB wall / isal build (2t) wall", ratio(get("duckdb", "wall"), get("isal-2t", "wall")), ">=", 4.5),
        ("chdb wall / isal build (2t) wall", ratio(get("chdb", "wall"), get("isal-2t", "wall")), ">=", 6.0),
        ("isal build 2t throughput / 1t throughput", ratio(gbps("isal-2t"), gbps("isal-1t")), ">=", 1.8),
        ("isal build (2t) peak RSS MB", get("isal-2t", "rss_mb"), "<=", 200.0),
        ("uncompressed input GB/s per core (plain TSV, 1t)", gbps("snowfunnel-plain-1t"), "", None),
    ]
    if only:  # the ratios against tools that did not run say nothing
        rows = [row for row in rows if row[1] is not None]
    elif times.get("isal-1t") is None:  # BENCH_ISAL=0
        rows = [row for row in rows if "isal build" not in row[0]]
    if rows:
        print("| ratio | value | target | |")
        print("|---|---:|---:|---|")
    for label, value, op, target in rows:
        if target is None:  # a figure without a target
            print(f"| {label} | {fmt(value)} | | |")
            continue
        if value is None:
            verdict = "n/a"
        else:
            verdict = "met" if (value >= target if op == ">=" else value <= target) else "**missed**"
        print(f"| {label} | {fmt(value)} | {op} {target:g} | {verdict} |")
    if rows:
        print()
    if not only or keys:
        print(
            f"Distinct context keys (the funnel's experiment, all events): {keys or 'n/a'}; "
            f"snowfunnel (2t) peak RSS per distinct key: {fmt(rss_per_key, 0)} bytes "
            "(an upper bound: the whole process, buffers included)."
        )
    for stem in ("duckdb", "chdb"):
        queries = [float(q) for q in facts.get(f"query_{stem}", "").split()]
        if times.get(stem) and queries:
            print(
                f"{stem}: the wall time includes Python start-up and imports; "
                f"the query alone took {statistics.median(queries):.3f} s (median)."
            )
    for stem, label, _ in TOOLS:
        if notes[stem] and times[stem] is not None:
            print(f"{label}: {notes[stem]}")
    if baseline:
        if not only or keys:  # else the ratios' blank line ends the text already
            print()
        before_after(run_dir, facts, times, ratio)
    return 0


def before_after(run_dir: Path, facts: dict[str, str], times: dict, ratio) -> None:
    """The current build against the baseline: medians of both, current/baseline, and the spread of
    the per-round wall ratios (the two ran next to each other in every round) as a gauge of noise."""
    print(
        f"#### Before/after: this build ({facts.get('current_rev', '?')}) against "
        f"`{facts.get('baseline_ref', '?')}` ({facts.get('baseline_rev', '?')})"
    )
    print()
    print(
        "| threads | wall s baseline | wall s current | current/baseline "
        "| CPU s baseline | CPU s current | current/baseline | per-round wall ratio, min-max |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for threads in ("1", "2"):
        base, cur = times.get(f"baseline-{threads}t"), times.get(f"snowfunnel-{threads}t")
        cells = []
        for key in ("wall", "cpu"):
            b, c = (base[key] if base else None), (cur[key] if cur else None)
            cells += [fmt(b), fmt(c), fmt(ratio(c, b), 3)]
        # Round i of each tool is line i of its timings file.
        pairs = zip(
            read_runs(run_dir / "time" / f"snowfunnel-{threads}t.time"),
            read_runs(run_dir / "time" / f"baseline-{threads}t.time"),
        )
        per_round = [c["wall"] / b["wall"] for c, b in pairs if b["wall"] > 0]
        spread = f"{min(per_round):.3f}-{max(per_round):.3f}" if per_round else "n/a"
        print(f"| {threads} | " + " | ".join(cells) + f" | {spread} |")
    print()
    print("Below 1: the current build is faster. Same data, funnel and command (`run --quiet`).")


def summary(paths: list[str]) -> int:
    for path in map(Path, paths):
        t = read_time(path)
        if t is None:
            print(f"report.py: no timings in {path}", file=sys.stderr)
            return 1
        print(f"{path.stem} {t['wall']:.2f} {t['cpu']:.2f} {t['rss_mb']:.0f}")
    return 0


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "compare":
        return compare(sys.argv[2:])
    if len(sys.argv) >= 3 and sys.argv[1] == "summary":
        return summary(sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        return table(Path(sys.argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
