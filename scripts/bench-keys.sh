#!/usr/bin/env bash
# Memory per distinct key (issue 15): peak RSS of `run` and `merge` over generated data with
# MILLIONS million distinct context keys, in bytes per key.
#
#   scripts/bench-keys.sh [MILLIONS...]    # default: 2 10
#
# For each size it
#   1. generates (or reuses) .bench/keys-<M>M/: 8 gzip files of experiment events only, in the
#      generator's bare layout (only the fields a funnel reads, so that tens of millions of keys
#      take a few GB), keys 64 or 32 lowercase hex characters and 3% in other shapes (UUIDs,
#      uppercase hex, decimal ids), about 2.7 events per key;
#   2. times with GNU time (wall, user+sys CPU, peak RSS): `run` (2 threads, --state-out), `merge`
#      of that state, the two shards of a 2-shard run (1 thread each, one after the other) and the
#      `merge` of their two states;
#   3. checks that both merges write the run's CSVs, and prints a table: peak RSS per distinct key,
#      the keys being those the run summary counts (each experiment's distinct keys, summed; older
#      keys named only in `migration_keys` come on top, so the figure errs high).
#
# Environment: BENCH_RUNS=N runs every step N times and reports the medians (default 1);
# BENCH_BIN=PATH measures another snowfunnel binary (an older build, say) instead of building
# this one; BENCH_REGEN=1 regenerates the data; BENCH_DIR=DIR keeps the data and the runs' files
# in DIR instead of .bench (about 0.45 GB of gzip per million keys, and the states). The table
# is also saved as .bench/keys-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-1}
SEED=15
FILES=8
FUNNELS=funnels/
# Keys per line and the universe of keys per experiment (a third of the lines): measured on the
# generator's journeys, about 2.7 experiment events per distinct key, some keys coming back.
KEYS_PER_LINE=0.373
OTHER_KEY_SHARE=0.03
if [[ ! $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench-keys.sh: BENCH_RUNS must be a positive integer" >&2
    exit 2
fi
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(2 10)
for m in "${SIZES[@]}"; do
    [[ $m =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "usage: scripts/bench-keys.sh [MILLIONS...]" >&2; exit 2; }
done

cargo build --release -q -p snowfunnel-gen
if [[ -n ${BENCH_BIN:-} ]]; then
    BIN=$BENCH_BIN
else
    cargo build --release -q -p snowfunnel
    BIN=target/release/snowfunnel
fi
GEN=target/release/snowfunnel-gen

# timed FILE COMMAND...: runs COMMAND (stdout to FILE.out), appends "wall cpu rss_kb" to FILE.
timed() {
    local file=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$file.last" "$@" >"$file.out"
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$file.last" >>"$file"
}

# median FILE COLUMN: the median of a column of FILE.
median() {
    sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

BENCH_DIR=${BENCH_DIR:-.bench}
mkdir -p .bench "$BENCH_DIR"
RESULTS=.bench/keys-results.md
{
    echo "| distinct keys | step | wall s | CPU s | peak RSS MB | bytes per key |"
    echo "|---:|---|---:|---:|---:|---:|"
} >"$RESULTS.rows"

for m in "${SIZES[@]}"; do
    DATA=$BENCH_DIR/keys-${m}M
    WORK=$BENCH_DIR/keys-run-${m}M
    events=$(awk -v m="$m" -v r="$KEYS_PER_LINE" 'BEGIN { printf "%d", m * 1e6 / r }')
    STAMP="seed=$SEED events=$events files=$FILES other=$OTHER_KEY_SHARE bare gzip-level=1"
    if [[ -n ${BENCH_REGEN:-} || "$(cat "$DATA/.stamp" 2>/dev/null)" != "$STAMP" ]]; then
        echo "generating $DATA ($events lines)..."
        rm -rf "$DATA"
        "$GEN" --seed "$SEED" --events "$events" --files "$FILES" --out "$DATA" --experiment-share 1 \
            --keys-per-experiment $((events / 3)) --other-key-share "$OTHER_KEY_SHARE" --bare --gzip-level 1
        echo "$STAMP" >"$DATA/.stamp"
    fi
    rm -rf "$WORK"
    mkdir -p "$WORK/states"
    for ((round = 1; round <= RUNS; round++)); do
        rm -rf "$WORK/out-"* "$WORK/states/"* "$WORK/run.snowfunnel"
        timed "$WORK/run" "$BIN" run --quiet --threads 2 --funnel "$FUNNELS" --out "$WORK/out-run" \
            --state-out "$WORK/run.snowfunnel" "$DATA"
        timed "$WORK/merge" "$BIN" merge --funnel "$FUNNELS" --out "$WORK/out-merge" "$WORK/run.snowfunnel"
        for shard in 0 1; do
            timed "$WORK/shard" "$BIN" run --quiet --threads 1 --funnel "$FUNNELS" --shard "$shard/2" \
                --state-out "$WORK/states/shard-{shard}.snowfunnel" "$DATA"
        done
        timed "$WORK/merge-shards" "$BIN" merge --quiet --funnel "$FUNNELS" --out "$WORK/out-shards" "$WORK/states/"
        diff -r "$WORK/out-run" "$WORK/out-merge" >/dev/null || { echo "merged CSVs differ from the run's" >&2; exit 1; }
        diff -r "$WORK/out-run" "$WORK/out-shards" >/dev/null || { echo "merged shard CSVs differ from the run's" >&2; exit 1; }
    done
    # The merge prints the run summary: each experiment's distinct keys.
    keys=$(sed -n 's/^  experiment  *[^:]*: [0-9,]* contexts, \([0-9,]*\) keys.*/\1/p' "$WORK/merge.out" | tr -d , |
        awk '{ s += $1 } END { print s }')
    state_mb=$(($(du -b "$WORK/run.snowfunnel" | cut -f1) / 1000000))
    shards_mb=$(($(du -bc "$WORK"/states/*.snowfunnel | tail -1 | cut -f1) / 1000000))
    for step in run merge shard merge-shards; do
        case $step in
            run) label="run, 2 threads, $FILES files, --state-out" ;;
            merge) label="merge of the run's state ($state_mb MB)" ;;
            shard) label="each of 2 shards, 1 thread" ;;
            merge-shards) label="merge of the 2 shard states ($shards_mb MB together)" ;;
        esac
        wall=$(median "$WORK/$step" 1)
        cpu=$(median "$WORK/$step" 2)
        rss_kb=$(median "$WORK/$step" 3)
        awk -v k="$keys" -v l="$label" -v w="$wall" -v c="$cpu" -v r="$rss_kb" 'BEGIN {
            printf "| %d | %s | %.2f | %.2f | %.0f | %.0f |\n", k, l, w, c, r / 1024, r * 1024 / k
        }' >>"$RESULTS.rows"
    done
done

{
    echo "Peak RSS per distinct key: $BIN, $(nproc) cores, medians of $RUNS round(s)."
    echo
    cat "$RESULTS.rows"
} | tee "$RESULTS"
rm -f "$RESULTS.rows"
