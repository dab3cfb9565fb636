-- One funnel over Snowplow enriched gzip TSV files, in ClickHouse (chdb), with snowfunnel's rules
-- (README "Rules" and "Bad input"). scripts/bench/peers.py fills the placeholders (a name between
-- double at-signs: FILES, COLUMNS, EXPERIMENT, FILTERS, SCHEMA, UNSTRUCT_CHECK, STEP_FLAGS, REACHED,
-- STEPS, THREADS) from the funnel file. Output: one row per (variant, step), 0 included.
--
-- Format TSVRaw: the enriched format has no escaping, and TabSeparated would unescape the `\"`
-- and `\/` inside the JSON fields. Columns are String, so empty fields are empty strings.
-- Bad lines: a line whose field count is not 131 (or an empty line) is a parse error, skipped
-- thanks to input_format_allow_errors_*; the other bad-row reasons that can touch an experiment
-- line (timestamps that do not parse, invalid contexts or unstruct_event JSON) are filtered below.

WITH
    -- snowfunnel's timestamp shape: YYYY-MM-DD hh:mm:ss[.f], 0-9 fraction digits, `T` for the
    -- space and a trailing `Z` accepted; the calendar check is parseDateTime64BestEffortOrNull's.
    '^\\d{4}-\\d{2}-\\d{2}[ T]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?Z?$' AS ts_shape

SELECT variant, step, countIf(length(variants) = 1 AND reached >= step) AS keys
FROM
(
    -- Per key: its variants (more than one: conflicting, excluded everywhere) and how many
    -- leading steps it did (presence, no order).
    SELECT key, groupUniqArray(variant) AS variants, @@REACHED@@ AS reached
    FROM
    (
        -- The funnel's experiment contexts with a non-empty string key and string experiment
        -- and variant, on events that pass the funnel's filters (time range, app_ids).
        SELECT
            JSONExtractString(entry, 'data', 'key') AS key,
            JSONExtractString(entry, 'data', 'variant') AS variant,
            @@STEP_FLAGS@@
        FROM
        (
            -- One row per entry of the contexts' data array (arrayJoin runs before a WHERE of
            -- the same SELECT, so it comes after the line filters).
            SELECT *, arrayJoin(JSONExtractArrayRaw(contexts, 'data')) AS entry
            FROM
            (
                -- Valid lines (bad rows count for nothing in snowfunnel). Event time:
                -- derived_tstamp when set and after 1970-01-01 00:00:00, else collector_tstamp.
                SELECT
                    app_id, event, se_category, se_action, se_label, se_property, page_urlpath, contexts, unstruct_event,
                    if(match(collector_tstamp, ts_shape),
                       parseDateTime64BestEffortOrNull(collector_tstamp, 6, 'UTC'), NULL) AS collector_ts,
                    if(match(derived_tstamp, ts_shape),
                       parseDateTime64BestEffortOrNull(derived_tstamp, 6, 'UTC'), NULL) AS derived_ts,
                    if(derived_ts > toDateTime64('1970-01-01 00:00:00', 6, 'UTC'), derived_ts, collector_ts) AS event_time,
                    @@SCHEMA@@ AS unstruct_schema
                FROM file(@@FILES@@, 'TSVRaw', '@@COLUMNS@@')
                -- snowfunnel's prefilter first: only these lines can carry an experiment context.
                WHERE position(contexts, 'gitlab_experiment') > 0
                  AND collector_ts IS NOT NULL
                  AND (derived_tstamp = '' OR derived_ts IS NOT NULL)
                  AND isValidJSON(contexts) AND JSONType(contexts, 'data') = 'Array'
                  AND @@UNSTRUCT_CHECK@@
            )
        )
        WHERE JSONType(entry, 'schema') = 'String'
          AND startsWith(JSONExtractString(entry, 'schema'), 'iglu:com.gitlab/gitlab_experiment/jsonschema/')
          AND JSONType(entry, 'data', 'key') = 'String'
          AND key != ''
          AND JSONType(entry, 'data', 'experiment') = 'String'
          AND JSONType(entry, 'data', 'variant') = 'String'
          AND JSONExtractString(entry, 'data', 'experiment') = @@EXPERIMENT@@
          AND @@FILTERS@@
    )
    GROUP BY key
)
-- Every variant seen (even only on conflicting keys) with every step.
ARRAY JOIN variants AS variant
ARRAY JOIN range(1, @@STEPS@@ + 1) AS step
GROUP BY variant, step
ORDER BY variant, step
SETTINGS
    max_threads = @@THREADS@@,
    input_format_allow_errors_num = 1000000000,
    input_format_allow_errors_ratio = 1,
    input_format_tsv_empty_as_default = 1
