#!/usr/bin/env python3
"""Writes a small gzip file of enriched lines that probe snowfunnel's rules, for
funnels/pipeline_editor_walkthrough.toml (gitlab only, 2026-03-01 to 2026-03-15, 4 steps).

    edge_cases.py OUT.gz

scripts/bench.sh runs snowfunnel, DuckDB and chdb on it before the timings and checks that they
agree: the generated data has few of these cases (event time at the epoch and at the range ends,
`T`/`Z` and 9-digit timestamps, keys that are null or empty or numbers, escaped slashes, invalid
unstruct_event, lines with extra empty trailing fields...), and each is a place where a SQL
formulation can drift from snowfunnel's rules. Standard library only.
"""

from __future__ import annotations

import gzip
import json
import sys

FIELD_COUNT = 131
EXPERIMENT = "pipeline_editor_walkthrough"
COMMIT_SCHEMA = "iglu:com.gitlab/pipeline_editor_commit/jsonschema/1-0-0"


def line(
    app="gitlab",
    collector="2026-03-05 10:00:00.000",
    derived="2026-03-05 09:59:59.000",
    event="struct",
    category="projects:ci:editor",
    action="view_editor",
    label="",
    contexts="",
    unstruct="",
    suffix="",
):
    fields = [""] * FIELD_COUNT
    fields[0], fields[3], fields[5], fields[124] = app, collector, event, derived
    fields[52], fields[53], fields[54], fields[55], fields[58] = contexts, category, action, label, unstruct
    return "\t".join(fields) + suffix


def contexts(*entries, escape_slashes=False):
    text = json.dumps(
        {"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", "data": list(entries)},
        separators=(",", ":"),
    )
    return text.replace("/", "\\/") if escape_slashes else text


def experiment(key, variant, name=EXPERIMENT, version="1-0-0", vendor="com.gitlab"):
    data = {"experiment": name, "variant": variant}
    if key is not None:
        data["key"] = key
    return {"schema": f"iglu:{vendor}/gitlab_experiment/jsonschema/{version}", "data": data}


def unstruct(schema):
    return json.dumps(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
            "data": {"schema": schema, "data": {}},
        }
    )


STEP2 = {"action": "click_walkthrough", "label": "walkthrough_popover"}
STEP3 = {"event": "unstruct", "category": "", "action": "", "unstruct": unstruct(COMMIT_SCHEMA)}
STEP4 = {"category": EXPERIMENT, "action": "pipeline_succeeded"}


def ctx(key, variant, **kwargs):
    """`contexts` holding one experiment entry."""
    return contexts(experiment(key, variant, **kwargs))


def entry(**data):
    """An experiment entry of the funnel's experiment with exactly `data` besides its name."""
    return {"schema": "iglu:com.gitlab/gitlab_experiment/jsonschema/1-0-0", "data": {"experiment": EXPERIMENT, **data}}


def lines():
    out = []
    # A key through the whole funnel.
    for step in ({}, STEP2, STEP3, STEP4):
        out.append(line(contexts=ctx("full", "control"), **step))
    # Event time: derived at the epoch (the tracker bug: collector time counts), 1 ms after it
    # (derived counts: out of range), before it; the end is exclusive, the start inclusive.
    out.append(line(derived="1970-01-01 00:00:00.000", contexts=ctx("epoch", "candidate")))
    out.append(line(derived="1970-01-01 00:00:00.001", contexts=ctx("after_epoch", "candidate")))
    out.append(line(derived="1969-12-31 23:59:59.000", contexts=ctx("before_epoch", "candidate")))
    out.append(line(derived="2026-03-15 00:00:00", contexts=ctx("at_end", "candidate")))
    out.append(line(derived="2026-03-14T23:59:59.999999999Z", contexts=ctx("iso_before_end", "candidate")))
    out.append(line(derived="", collector="2026-03-01 00:00:00", contexts=ctx("at_start", "control")))
    out.append(line(derived="", collector="2026-03-05T10:00:00", contexts=ctx("iso_collector", "control")))
    # app_ids filter, and conflicts: inside the funnel's events, and only outside them.
    out.append(line(app="gitlab-staging", contexts=ctx("staging", "control")))
    out.append(line(contexts=ctx("conflict", "control")))
    out.append(line(contexts=ctx("conflict", "candidate"), **STEP2))
    out.append(line(contexts=ctx("conflict_elsewhere", "control")))
    out.append(line(app="gitlab-staging", contexts=ctx("conflict_elsewhere", "candidate")))
    # Entries without a usable key or variant; an empty variant name is a variant.
    out.append(line(contexts=contexts(entry(key=None, variant="control"))))
    out.append(line(contexts=contexts(entry(key="", variant="control"))))
    out.append(line(contexts=contexts(entry(key="numeric_variant", variant=3))))
    out.append(line(contexts=contexts(entry(key=7, variant="control"))))
    out.append(line(contexts=ctx("empty_variant", "")))
    # Escaped slashes, several experiments on one event, data before schema, another vendor.
    out.append(
        line(
            contexts=contexts(
                experiment("escaped", "candidate_b"),
                experiment("other_key", "control", name="other/experiment"),
                escape_slashes=True,
            )
        )
    )
    out.append(
        line(
            contexts='{"data":[{"data":{"key":"data_first","variant":"control","experiment":"'
            + EXPERIMENT
            + '"},"schema":"iglu:com.gitlab/gitlab_experiment/jsonschema/0-3-0"}],"schema":"c"}'
        )
    )
    out.append(line(contexts=ctx("other_vendor", "control", vendor="com.example")))
    # Step 3 needs event = unstruct as well as the schema prefix.
    out.append(line(contexts=ctx("full", "control"), category="", action="", unstruct=unstruct(COMMIT_SCHEMA)))
    # Bad rows, each with a key that would otherwise count.
    out.append(line(contexts=ctx("bad_unstruct", "control"), **{**STEP3, "unstruct": '{"schema":"x","data":{"sch'}))
    out.append(line(contexts=ctx("unstruct_schema_number", "control"), unstruct='{"data":{"schema":5}}'))
    out.append(line(contexts=ctx("bad_contexts", "control")[:-3]))
    out.append(line(collector="2026-02-29 10:00:00", contexts=ctx("bad_collector", "control")))
    out.append(line(derived="2026-03-05 24:00:00", contexts=ctx("hour_24", "control")))
    out.append(line(derived="2026-03-05 10:00:60", contexts=ctx("second_60", "control")))
    out.append(line(derived="2026-03-05 10:00:00.", contexts=ctx("empty_fraction", "control")))
    out.append(line(contexts=ctx("one_extra_empty_field", "control"), suffix="\t"))
    out.append(line(contexts=ctx("two_extra_empty_fields", "control"), suffix="\t\t"))
    out.append(line(contexts=ctx("one_field_short", "control")).rsplit("\t", 1)[0])
    out.append("")
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with gzip.open(sys.argv[1], "wt", encoding="utf-8") as f:
        f.write("\n".join(lines()) + "\n")


if __name__ == "__main__":
    main()
