#!/usr/bin/env bash
# State files at work on one machine, timed: a single run; the same inputs as SHARDS shards (worker
# processes, two at a time with one thread each, as on a 2-core machine) and their merge; and an
# incremental run (the first half of the files, then all of them, then a rerun with nothing new).
# Checks that the merged and incremental CSVs equal the single run's, and prints a table.
#
#   scripts/bench-state.sh [SIZE] [SHARDS]    # defaults 1.5GB 4; reads .bench/data-SIZE made by scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${1:-1.5GB}"
SHARDS="${2:-4}"
FUNNELS="funnels/"
WORK=".bench/state-$SIZE"

# shellcheck source=scripts/bench/dataset.sh
. scripts/bench/dataset.sh "$SIZE"
cargo build --release -q -p snowfunnel
BIN=target/release/snowfunnel
rm -rf "$WORK" && mkdir -p "$WORK/daily" "$WORK/all"
mapfile -t FILES < <(find "$DATA" -maxdepth 1 -name '*.gz' | sort)
HALF=$((${#FILES[@]} / 2))
for f in "${FILES[@]}"; do ln -s "$PWD/$f" "$WORK/all/$(basename "$f")"; done
# The incremental runs read one directory that gets the second half of the files on "day 2":
# a state knows its inputs by name.
for f in "${FILES[@]:0:HALF}"; do ln -s "$PWD/$f" "$WORK/daily/$(basename "$f")"; done

# timed NAME COMMAND...: runs COMMAND, appends "NAME wall cpu rss_mb" to the results.
timed() {
    local name=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.$name" "$@" > "$WORK/stdout.$name"
    read -r wall user sys rss < "$WORK/time.$name"
    awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "%s %.2f %.2f %.0f\n", n, w, u + s, r / 1024 }' >> "$WORK/results"
}

: > "$WORK/results"
timed single "$BIN" run --quiet --threads 2 --funnel "$FUNNELS" --out "$WORK/out-single" "$WORK/all"

# The map step: two shard processes at a time, one thread each.
start=$(date +%s.%N)
for ((i = 0; i < SHARDS; i += 2)); do
    for j in $i $((i + 1)); do
        ((j < SHARDS)) || continue
        timed "shard-$j" "$BIN" run --quiet --threads 1 --funnel "$FUNNELS" --shard "$j/$SHARDS" \
            --state-out "$WORK/states/shard-{shard}.snowfunnel" "$WORK/all" &
    done
    wait
done
map_wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
timed merge "$BIN" merge --quiet --funnel "$FUNNELS" --out "$WORK/out-merged" "$WORK/states/"

timed incremental-day1 "$BIN" run --quiet --threads 2 --funnel "$FUNNELS" --state "$WORK/daily.snowfunnel" \
    --out "$WORK/out-day1" "$WORK/daily"
for f in "${FILES[@]:HALF}"; do ln -s "$PWD/$f" "$WORK/daily/$(basename "$f")"; done
timed incremental-day2 "$BIN" run --threads 2 --funnel "$FUNNELS" --state "$WORK/daily.snowfunnel" \
    --out "$WORK/out-day2" "$WORK/daily"
timed incremental-rerun "$BIN" run --threads 2 --funnel "$FUNNELS" --state "$WORK/daily.snowfunnel" \
    --out "$WORK/out-rerun" "$WORK/daily"

diff -r "$WORK/out-single" "$WORK/out-merged" > /dev/null || { echo "merged CSVs differ from the single run's" >&2; exit 1; }
diff -r "$WORK/out-single" "$WORK/out-day2" > /dev/null || { echo "incremental CSVs differ from the single run's" >&2; exit 1; }
diff -r "$WORK/out-single" "$WORK/out-rerun" > /dev/null || { echo "rerun CSVs differ from the single run's" >&2; exit 1; }

STORED=$(du -Lbc "${FILES[@]}" | tail -1 | cut -f1)
STATES=$(du -bc "$WORK"/states/*.snowfunnel | tail -1 | cut -f1)
echo "State files on $SIZE ($((${#FILES[@]})) gzip files, $((STORED / 1000000)) MB stored), funnels in $FUNNELS, $(nproc) cores;"
echo "merged ($SHARDS shards) and incremental (first $HALF files, then all ${#FILES[@]}) CSVs identical to the single run's."
echo
echo "| step | wall s | CPU s | peak RSS MB |"
echo "|---|---:|---:|---:|"
awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$WORK/results"
echo
echo "map step ($SHARDS shards, 2 at a time): ${map_wall} s wall; shard states together: $((STATES / 1000)) KB;" \
    "merged state: $(du -b "$WORK/daily.snowfunnel" | cut -f1) bytes (incremental)"
grep -E "files|counted before|state " "$WORK/stdout.incremental-day2" "$WORK/stdout.incremental-rerun" | sed 's/^[^:]*stdout\./  /'
