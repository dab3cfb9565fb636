-- One funnel over Snowplow enriched gzip TSV files, in DuckDB, with snowfunnel's rules
-- (README "Rules" and "Bad input"). scripts/bench/peers.py fills the placeholders (a name between
-- double at-signs: FILES, COLUMNS, EXPERIMENT, FILTERS, SCHEMA, UNSTRUCT_CHECK, STEP_FLAGS, REACHED,
-- STEPS) from the funnel file. Output: one row per (variant, step), 0 included.
--
-- Bad lines. DuckDB's read_csv with ignore_errors=true skips most lines whose field count is not
-- 131, but it takes a line with extra *empty* trailing fields (a tab or two at the end: one of the
-- generator's field_count cases) as a valid 131-field row. So the reader declares 132 columns, with
-- null_padding=true (a short line gets NULLs, rather than an error) and nullstr='\N' (so an empty
-- field is '' and only padding is NULL): a line is kept when it has exactly 131 fields, that is
-- when true_tstamp (the 131st) is not NULL and extra_field (the 132nd) is. Longer lines are read
-- errors, skipped by ignore_errors. The other bad-row reasons that can touch an experiment line
-- (timestamps that do not parse, invalid contexts or unstruct_event JSON) are filtered in `valid`.

WITH lines AS (
    -- Only the fields a funnel reads (never NULL on a line that passes the field-count check).
    SELECT
        app_id, collector_tstamp, event, page_urlpath, contexts, se_category, se_action, se_label,
        se_property, unstruct_event, derived_tstamp
    FROM read_csv(
        [@@FILES@@],
        columns = {@@COLUMNS@@},
        delim = '\t', quote = '', escape = '', new_line = '\n',
        header = false, auto_detect = false, all_varchar = true,
        compression = 'gzip', ignore_errors = true, null_padding = true, nullstr = '\N'
    )
    -- snowfunnel's prefilter: only these lines can carry an experiment context.
    WHERE contains(contexts, 'gitlab_experiment')
      -- Exactly 131 fields (see "Bad lines" above).
      AND true_tstamp IS NOT NULL AND extra_field IS NULL
),

parsed AS (
    -- Timestamps as snowfunnel parses them: YYYY-MM-DD hh:mm:ss[.f], 0-9 fraction digits,
    -- `T` for the space and a trailing `Z` accepted; anything else (or an impossible date) is NULL.
    SELECT
        *,
        CASE WHEN regexp_full_match(collector_tstamp, '\d{4}-\d{2}-\d{2}[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z?')
            THEN try_cast(collector_tstamp AS TIMESTAMP) END AS collector_ts,
        CASE WHEN regexp_full_match(derived_tstamp, '\d{4}-\d{2}-\d{2}[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z?')
            THEN try_cast(derived_tstamp AS TIMESTAMP) END AS derived_ts,
        CASE WHEN json_valid(contexts) THEN json_type(contexts, '$.data') END AS contexts_data_type
    FROM lines
),

valid AS (
    -- Drops the bad rows (they count for nothing in snowfunnel), then computes event time:
    -- derived_tstamp when set and after 1970-01-01 00:00:00, else collector_tstamp.
    SELECT
        *,
        CASE WHEN derived_ts > TIMESTAMP '1970-01-01 00:00:00' THEN derived_ts ELSE collector_ts END AS event_time,
        @@SCHEMA@@ AS unstruct_schema
    FROM parsed
    WHERE collector_ts IS NOT NULL
      AND (derived_tstamp = '' OR derived_ts IS NOT NULL)
      AND contexts_data_type = 'ARRAY'
      AND @@UNSTRUCT_CHECK@@
),

entries AS (
    -- One row per entry of the contexts' data array.
    SELECT * EXCLUDE (contexts), unnest(json_extract(contexts, '$.data[*]')) AS entry
    FROM valid
),

experiment_events AS (
    -- The funnel's experiment contexts with a non-empty string key and string experiment and
    -- variant, on events that pass the funnel's filters (time range, app_ids).
    SELECT
        json_extract_string(entry, '$.data.key') AS key,
        json_extract_string(entry, '$.data.variant') AS variant,
        @@STEP_FLAGS@@
    FROM entries
    WHERE json_type(entry, '$.schema') = 'VARCHAR'
      AND starts_with(json_extract_string(entry, '$.schema'), 'iglu:com.gitlab/gitlab_experiment/jsonschema/')
      AND json_type(entry, '$.data.key') = 'VARCHAR'
      AND json_extract_string(entry, '$.data.key') <> ''
      AND json_type(entry, '$.data.experiment') = 'VARCHAR'
      AND json_type(entry, '$.data.variant') = 'VARCHAR'
      AND json_extract_string(entry, '$.data.experiment') = @@EXPERIMENT@@
      AND @@FILTERS@@
),

per_key AS (
    -- Per key: its variants (more than one: conflicting, excluded everywhere) and how many
    -- leading steps it did (presence, no order).
    SELECT
        key,
        list(DISTINCT variant) AS variants,
        @@REACHED@@ AS reached
    FROM experiment_events
    GROUP BY key
),

per_variant AS (
    -- Every variant seen (even only on conflicting keys) with every step.
    SELECT unnest(variants) AS variant, step, len(variants) = 1 AND reached >= step AS counted
    FROM per_key CROSS JOIN range(1, @@STEPS@@ + 1) AS steps(step)
)

SELECT variant, step, count(*) FILTER (WHERE counted) AS keys
FROM per_variant
GROUP BY variant, step
ORDER BY variant, step
