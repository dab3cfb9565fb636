#!/usr/bin/env bash
# Fuzzes the readers of untrusted bytes with cargo fuzz (libFuzzer): enriched lines, contexts JSON,
# funnel files, state files and gzip inputs. See "Fuzzing" in README.md.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]
#
# MINUTES (default 10) is shared among the targets: the line parser (`line`) gets 40%, each of the
# others 15% (of what is left when fewer are named). FUZZ_RUNS_<TARGET>=N (FUZZ_RUNS_LINE=10000000,
# FUZZ_RUNS_STATE_FILE=1000000...) runs that target for N executions instead. Other settings:
#   FUZZ_TOOLCHAIN   rustup toolchain (default: the project's stable one, with RUSTC_BOOTSTRAP=1 for
#                    the -Z flags cargo fuzz passes; `nightly` where one is installed)
#   FUZZ_SANITIZER   address (default) or none
#   FUZZ_JOBS        libFuzzer processes per target (default 1)
#
# Seeds are made afresh in fuzz/seeds/TARGET from ../shared/fixtures, testdata/, funnels/ and state
# files of a `snowfunnel run --state-out`; what the fuzzer finds is kept in fuzz/corpus/TARGET for the
# next run (both ignored by git). Prints, per target: executions, executions per second, seconds,
# coverage, crashes. Exits 1 when a target crashed, naming its artifact in fuzz/artifacts/TARGET/;
# reproduce with `cargo fuzz run -a TARGET ARTIFACT` (with the same RUSTC_BOOTSTRAP), then make the
# artifact a regression test (crates/snowfunnel-fuzz/tests/it/regressions/TARGET/ and the crate at fault).
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(line contexts funnel_toml state_file gzip)

cd "$(dirname "$0")/.."
ROOT=$PWD
MINUTES=${1:-10}
shift $(($# > 0 ? 1 : 0))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (${ALL_TARGETS[*]})" >&2; exit 2; }
done
SANITIZER=${FUZZ_SANITIZER:-address}
JOBS=${FUZZ_JOBS:-1}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-}
if [ -z "$TOOLCHAIN" ] || [[ "$TOOLCHAIN" != nightly* ]]; then
    # cargo fuzz passes -Zsanitizer and other -Z flags: the stable compiler takes them with this.
    export RUSTC_BOOTSTRAP=1
fi
FUZZ=(cargo ${TOOLCHAIN:++$TOOLCHAIN} fuzz)
BUILD_FLAGS=(--debug-assertions --sanitizer "$SANITIZER")

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

echo "== building the fuzz targets (sanitizer: $SANITIZER${TOOLCHAIN:+, toolchain $TOOLCHAIN})"
"${FUZZ[@]}" build "${BUILD_FLAGS[@]}"

# ---- seeds ----------------------------------------------------------------------------------
# Made afresh for the targets of this run only, so that runs of different targets may go on at
# the same time.
SEEDS=$ROOT/fuzz/seeds
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FIXTURES=$ROOT/../shared/fixtures
[ -d "$FIXTURES" ] || { echo "fuzz.sh: $FIXTURES not found (shared/ beside the repository)" >&2; exit 2; }
SAMPLES=("$ROOT"/testdata/sample/*.gz)
# The first N lines of gzip file F (gzip stops on a closed pipe: not a failure).
inflated_head() { gzip -dc "$1" 2>/dev/null | head -n "$2" || true; }

# Lines: every fixture line alone (good and bad ones), the first lines of each sample file alone
# and by threes.
seeds_line() {
    local n=0 f
    for f in "$FIXTURES"/snowplow/*.tsv "$FIXTURES"/snowplow-more/*.tsv; do
        split -l 1 -a 4 -d "$f" "$SEEDS/line/fixture-$n-"
        n=$((n + 1))
    done
    for f in "${SAMPLES[@]}"; do
        inflated_head "$f" 200 > "$WORK/sample.tsv"
        split -l 1 -a 4 -d "$WORK/sample.tsv" "$SEEDS/line/sample-$n-"
        split -l 3 -a 4 -d "$WORK/sample.tsv" "$SEEDS/line/sample3-$n-"
        n=$((n + 1))
    done
}

# Contexts and unstruct_event fields of the fixture and sample lines, each once.
seeds_contexts() {
    local f
    cat "$FIXTURES"/snowplow/*.tsv "$FIXTURES"/snowplow-more/*.tsv > "$WORK/all.tsv"
    for f in "${SAMPLES[@]}"; do inflated_head "$f" 300 >> "$WORK/all.tsv"; done
    { cut -f 53 "$WORK/all.tsv"; cut -f 59 "$WORK/all.tsv"; } | grep -v '^$' | sort -u > "$WORK/json.txt"
    split -l 1 -a 5 -d "$WORK/json.txt" "$SEEDS/contexts/field-"
    truncate -s -1 "$SEEDS"/contexts/*
}

# Funnel files.
seeds_funnel_toml() {
    cp "$ROOT"/funnels/*.toml "$ROOT"/crates/snowfunnel-fuzz/data/*.toml "$SEEDS/funnel_toml/"
    { echo 'weights = { control = 1, candidate = 3 }'; cat "$ROOT/funnels/security_scan_nudge.toml"; } \
        > "$SEEDS/funnel_toml/weights.toml"
}

# State files of the fuzz plan (funnels/ and the sequential walkthrough), kept small (each
# execution reads, reports, merges and writes one): two inputs, a shard of them, a few lines.
seeds_state_file() {
    env -u RUSTC_BOOTSTRAP cargo build -q -p snowfunnel  # as the main build: the flag would rebuild it all
    local snowfunnel=$ROOT/target/debug/snowfunnel
    local plan=(--funnel "$ROOT/funnels" --funnel "$ROOT/crates/snowfunnel-fuzz/data/walkthrough_in_order.toml")
    mkdir -p "$WORK/two" "$WORK/tiny"
    inflated_head "${SAMPLES[0]}" 300 > "$WORK/lines.tsv"
    head -n 150 "$WORK/lines.tsv" | gzip -c > "$WORK/two/a.gz"
    tail -n 150 "$WORK/lines.tsv" | gzip -c > "$WORK/two/b.gz"
    head -n 40 "$WORK/lines.tsv" | gzip -c > "$WORK/tiny/t.gz"
    "$snowfunnel" run -q "${plan[@]}" --out "$WORK/out" --state-out "$SEEDS/state_file/two" "$WORK/two"
    "$snowfunnel" run -q "${plan[@]}" --out "$WORK/out" --shard 0/2 --state-out "$SEEDS/state_file/shard" "$WORK/two"
    "$snowfunnel" run -q "${plan[@]}" --out "$WORK/out" --state-out "$SEEDS/state_file/tiny" "$WORK/tiny"
}

# Stored inputs: small gzip files (one member, two, cut short), plain lines, the head of a sample.
seeds_gzip() {
    local f b
    for f in "${SAMPLES[@]}"; do
        b=$(basename "$f" .gz)
        inflated_head "$f" 20 > "$WORK/$b.tsv"
        gzip -c "$WORK/$b.tsv" > "$SEEDS/gzip/$b-one.gz"
        { head -n 10 "$WORK/$b.tsv" | gzip -c; tail -n 10 "$WORK/$b.tsv" | gzip -c; } > "$SEEDS/gzip/$b-two.gz"
        head -c 3000 "$SEEDS/gzip/$b-one.gz" > "$SEEDS/gzip/$b-cut.gz"
        head -n 5 "$WORK/$b.tsv" > "$SEEDS/gzip/$b-plain.tsv"
        head -c 16384 "$f" > "$SEEDS/gzip/$b-head.gz"
    done
    printf '' | gzip -c > "$SEEDS/gzip/empty.gz"
}

echo "== seeds"
for t in "${TARGETS[@]}"; do
    rm -rf "${SEEDS:?}/$t"
    mkdir -p "$SEEDS/$t" "$ROOT/fuzz/corpus/$t" "$ROOT/fuzz/artifacts/$t"
    "seeds_$t"
    # The crashes found before.
    reg=$ROOT/crates/snowfunnel-fuzz/tests/it/regressions/$t
    if [ -d "$reg" ]; then cp "$reg"/* "$SEEDS/$t/"; fi
    echo "   $t: $(find "$SEEDS/$t" -type f | wc -l) seeds, $(du -sh "$SEEDS/$t" | cut -f 1)"
done

# ---- runs -------------------------------------------------------------------------------------
# Per target: dictionary and largest input. The line target reads several lines per input.
declare -A DICT=([line]="line.dict json.dict" [contexts]=json.dict [funnel_toml]=funnel_toml.dict
    [state_file]=state_file.dict [gzip]=gzip.dict)
declare -A MAX_LEN=([line]=8192 [contexts]=8192 [funnel_toml]=4096 [state_file]=16384 [gzip]=65536)
declare -A SHARE=([line]=40 [contexts]=15 [funnel_toml]=15 [state_file]=15 [gzip]=15)
total_share=0
for t in "${TARGETS[@]}"; do total_share=$((total_share + SHARE[$t])); done

LOGS=$ROOT/fuzz/logs
mkdir -p "$LOGS"
failed=()
results=()
for t in "${TARGETS[@]}"; do
    dict=$WORK/$t.dict
    for d in ${DICT[$t]}; do cat "$ROOT/fuzz/dicts/$d"; done > "$dict"
    runs_var=FUZZ_RUNS_$(echo "$t" | tr '[:lower:]' '[:upper:]')
    if [ -n "${!runs_var:-}" ]; then
        limit=(-runs="${!runs_var}")
        what="${!runs_var} executions"
    else
        seconds=$((MINUTES * 60 * SHARE[$t] / total_share))
        seconds=$((seconds > 0 ? seconds : 1))
        limit=(-max_total_time="$seconds")
        what="$seconds s"
    fi
    parallel=()
    [ "$JOBS" -gt 1 ] && parallel=(-jobs="$JOBS" -workers="$JOBS")
    log=$LOGS/$t.log
    echo "== $t: $what"
    start=$SECONDS
    set +e
    "${FUZZ[@]}" run "${BUILD_FLAGS[@]}" "$t" "$ROOT/fuzz/corpus/$t" "$SEEDS/$t" -- \
        "${limit[@]}" "${parallel[@]}" -dict="$dict" -max_len="${MAX_LEN[$t]}" -timeout=30 \
        -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$ROOT/fuzz/artifacts/$t/" > "$log" 2>&1
    status=$?
    set -e
    elapsed=$((SECONDS - start))
    # With several jobs libFuzzer copies each worker's log (fuzz-N.log) into its own output, which
    # is $log already: the copies go, or the workers' figures would count twice.
    [ "$JOBS" -gt 1 ] && rm -f fuzz-*.log
    # (grep finds nothing in a log cut short: not a failure of this script)
    execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}' || true)
    rate=$(grep -h 'stat::average_exec_per_sec' "$log" | awk '{s += $2} END {print s + 0}' || true)
    cov=$(grep -ho 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}' || true)
    ft=$(grep -ho 'ft: [0-9]*' "$log" | tail -n 1 | awk '{print $2}' || true)
    corpus=$(ls "$ROOT/fuzz/corpus/$t" | wc -l)
    artifacts=$(grep -ho "Test unit written to [^ ]*" "$log" | awk '{print $5}' | sort -u | tr '\n' ' ' || true)
    crashes=$(echo "$artifacts" | wc -w)
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="failed (exit $status, see $log)"; fi
    [ "$status" -ne 0 ] && failed+=("$t: ${artifacts:-$log}")
    results+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$t" "$execs" "$rate" "$elapsed" \
        "${cov:-?}" "${ft:-?}" "$corpus" "$crashes")")
done

echo
echo "| target | executions | exec/s | seconds | coverage (cov) | features (ft) | corpus | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${results[@]}"
echo "(logs in fuzz/logs/; sanitizer $SANITIZER, $JOBS job(s) per target)"
if [ ${#failed[@]} -gt 0 ]; then
    echo
    echo "CRASHED:"
    printf '  %s\n' "${failed[@]}"
    exit 1
fi
