#!/usr/bin/env bash
# Throughput benchmark (issue 9): snowfunnel against the inflate floor and two SQL peers, side by
# side, in one run, on the same files and the same funnel.
#
#   scripts/bench.sh [SIZE]        SIZE: uncompressed data size for the generator (default 1.5GB;
#                                  200MB for a quick run)
#
# What it does, from a fresh clone:
#   1. builds snowfunnel, the generator and the inflate floor (release);
#   2. generates (or reuses) .bench/data-SIZE/: 8 gzip files from snowfunnel-gen, seed fixed, and
#      .bench/plain-SIZE/: the same files decompressed once (for the plain-input run);
#   3. installs libdeflate-tools (apt) when libdeflate-gunzip is missing, and DuckDB and chdb
#      (pinned) into the virtualenv .bench/venv;
#   4. times, with GNU time (wall, user+sys CPU, max RSS): snowfunnel --threads 1 and 2, the
#      inflate-only floor (1 and 2 threads), libdeflate-gunzip -c (1 thread), DuckDB (2 threads),
#      chdb (2 threads), and snowfunnel --threads 1 over the plain files;
#   5. checks that snowfunnel (1t, 2t, plain), DuckDB and chdb give identical counts per
#      (variant, step), on the data and on scripts/bench/edge_cases.py's hand-written lines;
#   6. prints one markdown table (tools, then the issue's ratios), also saved as
#      .bench/results-SIZE.md.
#
# Every tool's output goes to .bench/run-SIZE/logs/. Exit status: 0 when everything ran and the
# counts match; 1 otherwise (the table is still printed when the timings exist).
#
# Environment: BENCH_RUNS=N times every tool N times, in N rounds that each run all the tools in
# turn (so a burst of load elsewhere hits them alike), and reports each tool's median wall and
# CPU time (default 1; use 5 or more where the ratios matter); BENCH_REGEN=1 regenerates the
# data even if it exists. Timings are only as quiet as the machine: the script warns when the
# cores are already busy before the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- settings -------------------------------------------------------------------------------
SIZE=${1:-1.5GB}
SEED=9                     # fixed: the same seed and size always give the same files
FILES=8                    # gzip files, as the S3 loader would write them (one unit of work each)
FUNNEL=funnels/pipeline_editor_walkthrough.toml
PEER_THREADS=2             # DuckDB and chdb threads, as snowfunnel's 2-thread run
DUCKDB_VERSION=2.0.0       # PyPI pins (both install and run on the project's Debian, Python 3.11)
CHDB_VERSION=4.4.0
RUNS=${BENCH_RUNS:-1}

if [[ ! $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench.sh: BENCH_RUNS must be a positive integer" >&2
    exit 2
fi
if [[ ! $SIZE =~ ^[0-9]+(\.[0-9]+)?[A-Za-z]*$ ]]; then
    echo "usage: scripts/bench.sh [SIZE]   (e.g. 200MB, 1.5GB)" >&2
    exit 2
fi

BENCH=.bench
DATA=$BENCH/data-$SIZE
PLAIN=$BENCH/plain-$SIZE
RUN=$BENCH/run-$SIZE       # this run's logs, timings and outputs (wiped at every run)
VENV=$BENCH/venv
LOGS=$RUN/logs
RELEASE=${CARGO_TARGET_DIR:-target}/release
STAMP="seed=$SEED size=$SIZE files=$FILES"

rm -rf "$RUN"
mkdir -p "$LOGS" "$RUN/time" "$RUN/counts"
FACTS=$RUN/facts.env       # key=value facts for the table (report.py reads them)
: >"$FACTS"
fact() { echo "$1=$2" >>"$FACTS"; }
step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() {
    echo "bench.sh: $*" >&2
    exit 1
}
# Runs a command with its output in a log; on failure shows the log's end and stops.
logged() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "failed: $* (log: $log)"
    fi
}

# ---- 1. build -------------------------------------------------------------------------------
step "building (release): snowfunnel, snowfunnel-gen, snowfunnel-benches"
logged "$LOGS/build.log" cargo build --release -p snowfunnel -p snowfunnel-gen -p snowfunnel-benches
note "log: $LOGS/build.log"

# ---- 2. data --------------------------------------------------------------------------------
step "data: $DATA ($STAMP)"
if [[ ${BENCH_REGEN:-0} == 1 || ! -f $DATA/.stamp || $(cat "$DATA/.stamp") != "$STAMP" ]]; then
    rm -rf "$DATA" "$PLAIN"
    logged "$LOGS/generate.log" "$RELEASE/snowfunnel-gen" --seed "$SEED" --size "$SIZE" --files "$FILES" --out "$DATA"
    echo "$STAMP" >"$DATA/.stamp"
    note "$(cat "$LOGS/generate.log")"
else
    note "reusing it (BENCH_REGEN=1 to regenerate)"
fi
mapfile -t GZ < <(find "$DATA" -maxdepth 1 -name '*.gz' | sort)
((${#GZ[@]} == FILES)) || die "expected $FILES .gz files in $DATA, found ${#GZ[@]}"

# The plain-text copy for the uncompressed-input run: the same lines, decompressed once.
if [[ ! -f $PLAIN/.stamp || $(cat "$PLAIN/.stamp") != "$STAMP" ]]; then
    rm -rf "$PLAIN"
    mkdir -p "$PLAIN"
    for f in "${GZ[@]}"; do
        gzip -dc "$f" >"$PLAIN/$(basename "$f" .gz).tsv"
    done
    echo "$STAMP" >"$PLAIN/.stamp"
fi
mapfile -t TSV < <(find "$PLAIN" -maxdepth 1 -name '*.tsv' | sort)

compressed=0
for f in "${GZ[@]}"; do compressed=$((compressed + $(stat -c %s "$f"))); done
uncompressed=0
for f in "${TSV[@]}"; do uncompressed=$((uncompressed + $(stat -c %s "$f"))); done
lines=$(cat "${TSV[@]}" | wc -l)
note "$FILES files, $lines lines, $uncompressed bytes uncompressed, $compressed bytes compressed"

# ---- 3. tools -------------------------------------------------------------------------------
step "tools: libdeflate-gunzip, DuckDB $DUCKDB_VERSION and chdb $CHDB_VERSION"
# apt_install PKG...: installs Debian packages when apt-get is usable (root or password-less sudo);
# tries without `apt-get update` first. Output in logs/apt.log. Fails when it cannot.
apt_install() {
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null || return 1
    {
        "${sudo[@]}" apt-get install -y "$@" ||
            { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "$@"; }
    } >>"$LOGS/apt.log" 2>&1
}
if ! command -v libdeflate-gunzip >/dev/null; then
    apt_install libdeflate-tools || true
fi
if command -v libdeflate-gunzip >/dev/null; then
    note "libdeflate-gunzip: $(command -v libdeflate-gunzip)"
else
    note "NOTE: libdeflate-gunzip is missing and apt-get could not install libdeflate-tools" \
        "(not root, no apt, or no network; see $LOGS/apt.log): its run is skipped"
    fact note_libdeflate "not installed: apt-get unusable here"
fi

# The peers live in a local virtualenv, pinned, reinstalled only when the pins change.
if [[ ! -x $VENV/bin/python ]]; then
    # Debian's own python3 needs python3-venv for this.
    if ! python3 -m venv "$VENV" >"$LOGS/venv.log" 2>&1; then
        rm -rf "$VENV"
        apt_install python3-venv || true
        logged "$LOGS/venv.log" python3 -m venv "$VENV"
    fi
fi
want="duckdb $DUCKDB_VERSION chdb $CHDB_VERSION"
have=$("$VENV/bin/python" -c 'import duckdb, chdb; print("duckdb", duckdb.__version__, "chdb", chdb.__version__)' 2>/dev/null || true)
if [[ $have != "$want" ]]; then
    logged "$LOGS/pip.log" "$VENV/bin/python" -m pip install --disable-pip-version-check \
        "duckdb==$DUCKDB_VERSION" "chdb==$CHDB_VERSION"
fi
note "virtualenv $VENV: $want"
PY=$VENV/bin/python

# ---- 4. timed runs --------------------------------------------------------------------------
# Facts for the table.
fact size "$SIZE"
fact seed "$SEED"
fact files "$FILES"
fact funnel "$FUNNEL"
fact lines "$lines"
fact compressed_bytes "$compressed"
fact uncompressed_bytes "$uncompressed"
fact cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
fact cores "$(nproc)"
libdeflate_version=$(libdeflate-gunzip -V 2>/dev/null | head -n 1 | grep -o 'v[0-9.]*' || true)
fact versions "$("$RELEASE/snowfunnel" --version), $want, libdeflate-gunzip ${libdeflate_version:-n/a}"

# The tools, in the order they run, and each one's command (set into CMD).
TOOLS=(floor-1t floor-2t)
if command -v libdeflate-gunzip >/dev/null; then TOOLS+=(libdeflate); fi
TOOLS+=(snowfunnel-1t snowfunnel-2t duckdb chdb snowfunnel-plain-1t)
# shellcheck disable=SC2016 # $@ and $f belong to the inner shell
LIBDEFLATE_LOOP='for f in "$@"; do libdeflate-gunzip -c "$f" >/dev/null; done'
export BENCH_TMP=$RUN # DuckDB's spill directory (peers.py)
tool_command() {
    case $1 in
        # The floor: the same decoder as snowfunnel, inflating only; prints the decompressed size.
        floor-1t) CMD=("$RELEASE/snowfunnel-inflate-floor" --threads 1 "${GZ[@]}") ;;
        floor-2t) CMD=("$RELEASE/snowfunnel-inflate-floor" --threads 2 "${GZ[@]}") ;;
        # Sequential, one process per file, output discarded.
        libdeflate) CMD=(bash -c "$LIBDEFLATE_LOOP" _ "${GZ[@]}") ;;
        snowfunnel-1t | snowfunnel-2t)
            local threads=${1#snowfunnel-}
            CMD=("$RELEASE/snowfunnel" run --threads "${threads%t}" --quiet --out "$RUN/out-$threads"
                --funnel "$FUNNEL" "${GZ[@]}")
            ;;
        # The SQL peers: scripts/bench/peers.py builds each one's SQL from the funnel file.
        duckdb | chdb)
            CMD=("$PY" scripts/bench/peers.py "$1" --funnel "$FUNNEL" --threads "$PEER_THREADS"
                --out "$RUN/counts/$1.csv" --sql-out "$RUN/$1.sql" "${GZ[@]}")
            ;;
        # Uncompressed input: the same lines as plain TSV, one thread, so GB/s of wall is per core.
        # Not quiet: its run summary gives the distinct keys for the bytes-per-key figure.
        snowfunnel-plain-1t)
            CMD=("$RELEASE/snowfunnel" run --threads 1 --out "$RUN/out-plain-1t" --funnel "$FUNNEL" "${TSV[@]}")
            ;;
    esac
}

# timed NAME RUN_NUMBER: runs the tool once under GNU time, which appends "wall user sys maxrss_kb"
# to time/NAME.time; the tool's stdout and stderr are appended to logs/NAME.log.
timed() {
    local name=$1 log=$LOGS/$1.log
    tool_command "$name"
    echo "== run $2 of $RUNS: ${CMD[*]}" >>"$log"
    if ! /usr/bin/time -f '%e %U %S %M' -a -o "$RUN/time/$name.time" "${CMD[@]}" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "$name failed (log: $log)"
    fi
    note "$(printf '%-22s' "$name") $(tail -n 1 "$RUN/time/$name.time" |
        awk '{printf "wall %6.2f s  cpu %6.2f s  rss %5.0f MB", $1, $2 + $3, $4 * 1024 / 1e6}')"
}

# How busy the cores are before the runs (other processes, over 2 s), from /proc/stat: the load
# average would still show this script's own build.
# Fields: user nice system idle iowait irq softirq steal; busy is all but idle and iowait.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
read -r busy0 total0 < <(cpu_ticks)
sleep 2
read -r busy1 total1 < <(cpu_ticks)
busy=$(((busy1 - busy0) * 100 / (total1 - total0 > 0 ? total1 - total0 : 1)))
fact busy_before "$busy"
if ((busy > 10)); then
    note "WARNING: the cores were $busy% busy before the runs: other processes compete, timings are noisy"
fi

step "warming the page cache, then timing every tool ($RUNS round(s); the rounds alternate the tools)"
cat "${GZ[@]}" "${TSV[@]}" >/dev/null
mkdir -p "$RUN/out-1t" "$RUN/out-2t" "$RUN/out-plain-1t"
for ((round = 1; round <= RUNS; round++)); do
    ((RUNS == 1)) || note "round $round of $RUNS"
    for name in "${TOOLS[@]}"; do
        timed "$name" "$round"
    done
done

inflated=$(grep -v '^==' "$LOGS/floor-1t.log" | tail -n 1)
[[ $inflated == "$uncompressed" ]] || die "the inflate floor decompressed $inflated bytes, expected $uncompressed"
# The query's own time of each run (peers.py prints it), for the note under the table.
for peer in duckdb chdb; do
    fact "query_$peer" "$(sed -n 's/.*query \([0-9.]*\) s.*/\1/p' "$LOGS/$peer.log" | tr '\n' ' ')"
done
# The summary line "experiment NAME: N contexts, K keys, ..." (best effort: n/a if its wording changes).
experiment=$(sed -n 's/^experiment *= *"\(.*\)"/\1/p' "$FUNNEL")
keys=$(grep -F "$experiment:" "$LOGS/snowfunnel-plain-1t.log" | grep -o '[0-9,]* keys' | head -n 1 | tr -d ',' || true)
keys=${keys% keys}
fact distinct_keys "$keys"

# ---- 5. identical counts --------------------------------------------------------------------
step "counts per (variant, step): snowfunnel 2t, 1t, plain 1t, DuckDB, chdb"
status=0
csv_of() {
    local csvs=("$1"/*.csv)
    echo "${csvs[0]}"
}
"$PY" scripts/bench/report.py compare \
    "snowfunnel-2t=$(csv_of "$RUN/out-2t")" \
    "snowfunnel-1t=$(csv_of "$RUN/out-1t")" \
    "snowfunnel-plain-1t=$(csv_of "$RUN/out-plain-1t")" \
    "duckdb=$RUN/counts/duckdb.csv" \
    "chdb=$RUN/counts/chdb.csv" | tee "$RUN/compare.txt" || status=1

# The same check on a few hand-written lines that probe the rules where a SQL formulation can
# drift from snowfunnel's (event time at the epoch and at the range ends, odd timestamps and keys,
# invalid JSON, lines with extra empty trailing fields): see scripts/bench/edge_cases.py.
step "counts on scripts/bench/edge_cases.py's lines: snowfunnel, DuckDB, chdb"
EDGE=$RUN/edge
mkdir -p "$EDGE/out"
"$PY" scripts/bench/edge_cases.py "$EDGE/edge_cases.gz"
logged "$LOGS/edge-snowfunnel.log" "$RELEASE/snowfunnel" run --threads 1 --max-bad-ratio 1 --out "$EDGE/out" \
    --funnel "$FUNNEL" "$EDGE/edge_cases.gz"
for peer in duckdb chdb; do
    logged "$LOGS/edge-$peer.log" "$PY" scripts/bench/peers.py "$peer" --funnel "$FUNNEL" --threads "$PEER_THREADS" \
        --out "$EDGE/$peer.csv" "$EDGE/edge_cases.gz"
done
"$PY" scripts/bench/report.py compare "snowfunnel=$(csv_of "$EDGE/out")" "duckdb=$EDGE/duckdb.csv" \
    "chdb=$EDGE/chdb.csv" | tee -a "$RUN/compare.txt" || status=1

# ---- 6. the table ---------------------------------------------------------------------------
step "results"
"$PY" scripts/bench/report.py table "$RUN" | tee "$BENCH/results-$SIZE.md"
if ((status != 0)); then
    echo
    echo "FAIL: the tools disagree on the counts (see above and $RUN/compare.txt)"
fi
exit "$status"
