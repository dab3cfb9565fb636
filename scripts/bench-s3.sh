#!/usr/bin/env bash
# S3 input against local files: the same dataset read by `snowfunnel run` from disk and from the
# project's S3-protocol server on 127.0.0.1 (snowfunnel-s3-serve: s3s over s3s-fs), 1 and 2 threads,
# checking that both give the same CSVs.
#
#   scripts/bench-s3.sh [SIZE]      # default 1.5GB; reads .bench/data-SIZE made by scripts/bench.sh
#   BENCH_RUNS=5 scripts/bench-s3.sh   # 5 rounds, each running every configuration in turn;
#                                      # medians of wall and CPU, largest peak RSS
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${1:-1.5GB}"
RUNS="${BENCH_RUNS:-1}"
FUNNEL="funnels/pipeline_editor_walkthrough.toml"
WORK=".bench/s3-$SIZE"

# shellcheck source=scripts/bench/dataset.sh
. scripts/bench/dataset.sh "$SIZE"
cargo build --release -q -p snowfunnel -p snowfunnel-s3-testserver
BIN=target/release

# The bucket `events` holds the dataset's files (links, no copies).
rm -rf "$WORK" && mkdir -p "$WORK/root/events/enriched"
for f in "$DATA"/*.gz; do ln -s "$PWD/$f" "$WORK/root/events/enriched/$(basename "$f")"; done

"$BIN/snowfunnel-s3-serve" "$WORK/root" > "$WORK/serve.out" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^endpoint ' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
ENDPOINT=$(sed -n 's/^endpoint //p' "$WORK/serve.out")
export $(sed -n 's/^AWS_/AWS_/p' "$WORK/serve.out")
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

# One timed run, appended to $WORK/time/NAME-THREADS.time (GNU time: wall user sys maxrss_kb).
measure() { # name threads out input...
    local name=$1 threads=$2 out=$3; shift 3
    /usr/bin/time -a -f '%e %U %S %M' -o "$WORK/time/$name-$threads.time" \
        "$BIN/snowfunnel" run --quiet --threads "$threads" --funnel "$FUNNEL" --out "$out" \
        --endpoint-url "$ENDPOINT" --s3-path-style "$@"
}

# Rounds that each run every configuration in turn, so a burst of load elsewhere hits them alike.
mkdir -p "$WORK/time"
for _ in $(seq "$RUNS"); do
    for threads in 1 2; do
        measure local "$threads" "$WORK/out-local" "$DATA"
        measure s3 "$threads" "$WORK/out-s3" s3://events/enriched/
    done
done
# Per configuration, "name threads wall cpu rss_mb": median wall and CPU, largest peak RSS.
python3 scripts/bench/report.py summary "$WORK"/time/{local-1,s3-1,local-2,s3-2}.time |
    sed 's/^\([a-z0-9]*\)-\([0-9]*\) /\1 \2 /' > "$WORK/results"

diff -r "$WORK/out-local" "$WORK/out-s3" > /dev/null || { echo "S3 and local CSVs differ" >&2; exit 1; }
STORED=$(du -Lbc "$DATA"/*.gz | tail -1 | cut -f1)
echo "S3 (local server on 127.0.0.1) against local files: $SIZE dataset, $(ls "$DATA"/*.gz | wc -l) gzip files, $((STORED / 1000000)) MB stored; same CSVs; medians of $RUNS alternating rounds"
echo
echo "| input | threads | wall s | CPU s | peak RSS MB | stored MB/s (wall) |"
echo "|---|---:|---:|---:|---:|---:|"
awk -v stored="$STORED" '{ printf "| %s | %s | %s | %s | %s | %.0f |\n", $1, $2, $3, $4, $5, stored / 1e6 / $3 }' "$WORK/results"
awk '{ wall[$1 $2] = $3 } END { printf "\nS3/local wall: %.2fx (1 thread), %.2fx (2 threads)\n", wall["s31"] / wall["local1"], wall["s32"] / wall["local2"] }' "$WORK/results"
