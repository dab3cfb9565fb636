#!/usr/bin/env python3
"""Runs one snowfunnel funnel on a SQL peer (DuckDB or chdb) over enriched gzip TSV files.

    peers.py duckdb|chdb --funnel FUNNEL.toml --threads N --out COUNTS.csv [--sql-out FILE] FILE...

The SQL is scripts/bench/<engine>_funnel.sql with its @@NAME@@ placeholders filled from the funnel
file (experiment, app_ids, start, end, steps), so the peers implement exactly snowfunnel's rules.
Writes `variant,step,keys` (one row per variant seen and step, sorted) to COUNTS.csv and prints
the query's own time (without Python start-up and imports) on stderr. Runs inside the bench
virtualenv (scripts/bench.sh creates it); needs Python 3.11+ for tomllib.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent

FIELD_COUNT = 131
# 0-based indexes of the fields a funnel reads (the Analytics SDKs' order).
NAMED_FIELDS = {
    0: "app_id",
    3: "collector_tstamp",
    5: "event",
    35: "page_urlpath",
    52: "contexts",
    53: "se_category",
    54: "se_action",
    55: "se_label",
    56: "se_property",
    58: "unstruct_event",
    124: "derived_tstamp",
    130: "true_tstamp",  # the last field: DuckDB's field-count check needs it
}
# Funnel step keys matched exactly against a field.
STEP_FIELDS = {
    "category": "se_category",
    "action": "se_action",
    "label": "se_label",
    "property": "se_property",
    "event": "event",
    "page_urlpath": "page_urlpath",
}


def column_names() -> list[str]:
    return [NAMED_FIELDS.get(i, f"f{i:03}") for i in range(FIELD_COUNT)]


def normalize_time(value: object) -> str:
    """A funnel's start/end (TOML string or datetime) as `YYYY-MM-DD hh:mm:ss[.f]` (UTC)."""
    text = str(value).strip().replace("T", " ").removesuffix("Z")
    if len(text) == 10:
        text += " 00:00:00"
    return text


class Dialect:
    """What differs between the two SQL dialects, besides the templates."""

    def __init__(self, engine: str):
        self.engine = engine

    def lit(self, text: str) -> str:
        if self.engine == "duckdb":
            return "'" + text.replace("'", "''") + "'"
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def timestamp(self, text: str) -> str:
        if self.engine == "duckdb":
            return f"TIMESTAMP {self.lit(text)}"
        return f"parseDateTime64BestEffort({self.lit(text)}, 6, 'UTC')"

    def starts_with(self, column: str, prefix: str) -> str:
        if self.engine == "duckdb":
            return f"coalesce(starts_with({column}, {self.lit(prefix)}), false)"
        return f"(unstruct_event != '' AND startsWith({column}, {self.lit(prefix)}))"

    def columns(self) -> str:
        if self.engine == "duckdb":
            # One column more than the format has: see duckdb_funnel.sql on bad lines.
            return ", ".join(f"'{name}': 'VARCHAR'" for name in [*column_names(), "extra_field"])
        return ", ".join(f"{name} String" for name in column_names())

    def files(self, files: list[str]) -> str:
        paths = [str(Path(f).resolve()) for f in files]
        if self.engine == "duckdb":
            return ", ".join(self.lit(p) for p in paths)
        # file() takes one path with globs; `{a,b,c}` lists names, within one directory.
        parents = {str(Path(p).parent) for p in paths}
        names = [Path(p).name for p in paths]
        if len(parents) != 1 or any(c in n for n in names for c in ",{}*?"):
            sys.exit("peers.py: chdb needs files of one directory, without glob characters in their names")
        listed = names[0] if len(names) == 1 else "{" + ",".join(names) + "}"
        return self.lit(f"{parents.pop()}/{listed}")

    def schema(self, needed: bool) -> str:
        """The unstruct event's inner schema (NULL or '' when absent)."""
        if not needed:
            return "NULL" if self.engine == "duckdb" else "''"
        if self.engine == "duckdb":
            return (
                "CASE WHEN unstruct_event <> '' AND json_valid(unstruct_event) "
                "THEN json_extract_string(unstruct_event, '$.data.schema') END"
            )
        return "JSONExtractString(unstruct_event, 'data', 'schema')"

    def unstruct_check(self, needed: bool) -> str:
        """snowfunnel's `invalid_unstruct_event`: only when a step matches on `schema`."""
        if not needed:
            return "true"
        if self.engine == "duckdb":
            return (
                "CASE WHEN unstruct_event = '' THEN true "
                "WHEN json_valid(unstruct_event) "
                "THEN coalesce(json_type(unstruct_event, '$.data.schema') = 'VARCHAR', false) "
                "ELSE false END"
            )
        return (
            "(unstruct_event = '' OR (isValidJSON(unstruct_event) "
            "AND JSONType(unstruct_event, 'data', 'schema') = 'String'))"
        )

    def any_flag(self, flag: str) -> str:
        return f"bool_or({flag})" if self.engine == "duckdb" else f"max({flag})"

    def reached(self, steps: int) -> str:
        """How many leading steps a key did."""
        flags = [self.any_flag(f"s{n}") for n in range(1, steps + 1)]
        if self.engine == "duckdb":
            whens = " ".join(f"WHEN NOT {flag} THEN {n}" for n, flag in enumerate(flags))
            return f"CASE {whens} ELSE {steps} END"
        args = ", ".join(f"NOT {flag}, {n}" for n, flag in enumerate(flags))
        return f"multiIf({args}, {steps})"


def build_sql(engine: str, funnel_path: Path, files: list[str], threads: int) -> str:
    funnel = tomllib.loads(funnel_path.read_text())
    d = Dialect(engine)
    steps = funnel["steps"]
    needs_schema = any("schema" in step for step in steps)

    filters = []
    if "start" in funnel:
        filters.append(f"event_time >= {d.timestamp(normalize_time(funnel['start']))}")
    if "end" in funnel:
        filters.append(f"event_time < {d.timestamp(normalize_time(funnel['end']))}")
    if "app_ids" in funnel:
        filters.append(f"app_id IN ({', '.join(d.lit(a) for a in funnel['app_ids'])})")

    flags = []
    for n, step in enumerate(steps, start=1):
        conditions = [f"{column} = {d.lit(step[key])}" for key, column in STEP_FIELDS.items() if key in step]
        if "schema" in step:
            conditions.append(d.starts_with("unstruct_schema", step["schema"]))
        if not conditions:
            sys.exit(f"peers.py: step {n} of {funnel_path} names no field")
        flags.append(f"({' AND '.join(conditions)}) AS s{n}")

    replacements = {
        "FILES": d.files(files),
        "COLUMNS": d.columns(),
        "EXPERIMENT": d.lit(funnel["experiment"]),
        "FILTERS": " AND ".join(filters) or "true",
        "SCHEMA": d.schema(needs_schema),
        "UNSTRUCT_CHECK": d.unstruct_check(needs_schema),
        "STEP_FLAGS": ",\n        ".join(flags),
        "REACHED": d.reached(len(steps)),
        "STEPS": str(len(steps)),
        "THREADS": str(threads),
    }
    sql = (HERE / f"{engine}_funnel.sql").read_text()
    for name, value in replacements.items():
        sql = sql.replace(f"@@{name}@@", value)
    if "@@" in sql:
        sys.exit(f"peers.py: unfilled placeholder in {engine}_funnel.sql")
    return sql


def run_duckdb(sql: str, threads: int) -> list[tuple]:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    # Keeps DuckDB's spill files (if any) under the bench directory rather than in the cwd.
    spill = Path(os.environ.get("BENCH_TMP") or tempfile.gettempdir()) / "duckdb.tmp"
    con.execute(f"SET temp_directory = {Dialect('duckdb').lit(str(spill))}")
    return con.execute(sql).fetchall()


def run_chdb(sql: str) -> list[tuple]:
    import chdb

    result = chdb.query(sql, "CSV")
    rows = []
    for row in csv.reader(result.data().splitlines()):
        rows.append((row[0], int(row[1]), int(row[2])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=["duckdb", "chdb"])
    parser.add_argument("--funnel", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True, help="counts CSV: variant,step,keys")
    parser.add_argument("--sql-out", type=Path, help="also write the SQL run here")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    sql = build_sql(args.engine, args.funnel, args.files, args.threads)
    if args.sql_out:
        args.sql_out.write_text(sql)
    started = time.monotonic()
    rows = run_duckdb(sql, args.threads) if args.engine == "duckdb" else run_chdb(sql)
    elapsed = time.monotonic() - started
    with args.out.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["variant", "step", "keys"])
        for variant, step, keys in sorted(rows, key=lambda r: (r[0], int(r[1]))):
            out.writerow([variant, int(step), int(keys)])
    print(f"{args.engine}: query {elapsed:.3f} s, {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
