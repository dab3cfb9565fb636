#!/usr/bin/env bash
# Throughput benchmark (issue 9): snowfunnel against the inflate floor and two SQL peers, side by
# side, in one run, on the same files and the same funnel.
#
#   scripts/bench.sh [SIZE]        SIZE: uncompressed data size for the generator (default 1.5GB;
#                                  200MB for a quick run)
#
# What it does, from a fresh clone:
#   1. builds snowfunnel, the generator and the inflate floor (release), and snowfunnel with the
#      `isal` feature (kept as .bench/isal/snowfunnel);
#   2. generates (or reuses) .bench/data-SIZE/: 8 gzip files from snowfunnel-gen, seed fixed,
#      .bench/plain-SIZE/: the same files decompressed once (for the plain-input run), and
#      .bench/single-SIZE/all.gz: the same lines in one file of one gzip member (`gzip -6`);
#   3. installs libdeflate-tools and isal (apt) when libdeflate-gunzip or igzip is missing, and
#      DuckDB and chdb (pinned) into the virtualenv .bench/venv;
#   4. times, with GNU time (wall, user+sys CPU, max RSS): snowfunnel --threads 1 and 2 (both
#      builds), the inflate-only floor (1 and 2 threads), libdeflate-gunzip -c and igzip -d -c
#      (1 thread), DuckDB (2 threads), chdb (2 threads), snowfunnel --threads 1 over the plain
#      files, and snowfunnel (both builds, 1 and 2 threads) and the floor (1 thread) over the
#      single-member file;
#   5. checks that snowfunnel (both builds, 1t, 2t, plain, single file), DuckDB and chdb give
#      identical counts per (variant, step), on the data and on scripts/bench/edge_cases.py's
#      hand-written lines, and that both builds' outputs (CSVs, JSON, HTML; stamped with one time
#      by SOURCE_DATE_EPOCH) are byte for byte the same with 1 and 2 threads;
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
#
# Before/after (a refactor's cost): BENCH_BASELINE=REV, any git revision (a hash, main~3, a tag),
# also builds snowfunnel at REV (release, in a detached worktree .bench/baseline/worktree that is
# removed after the build, with its own target dir .bench/baseline/target) and keeps the binary as
# .bench/baseline/bin/snowfunnel-HASH, reused while REV names the same commit (delete it to rebuild).
# Its runs baseline-1t and baseline-2t sit next to snowfunnel-1t and -2t in every round (the pair's
# order alternates between rounds), its counts must equal the current build's, and the table adds a
# before/after section: medians of both and the ratio current/baseline. BENCH_BASELINE=HEAD on a
# clean tree measures the noise (an A/A run).
# BENCH_ONLY=snowfunnel runs only snowfunnel 1t and 2t (and the baseline's and the isal build's): no
# floor, libdeflate, igzip, DuckDB, chdb or plain-input run, no plain copy and no peer install (a
# quick A/B on a machine without the peers; the table goes to .bench/results-SIZE-snowfunnel.md).
# BENCH_ISAL=0 leaves out the `isal` build (its build needs nasm and autotools: scripts/ci-setup.sh
# installs them).
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
BASELINE=${BENCH_BASELINE:-}  # a git revision to compare with, or empty
ONLY=${BENCH_ONLY:-}          # "snowfunnel": snowfunnel's runs only, or empty: every tool
ISAL=${BENCH_ISAL:-1}         # 1: also time snowfunnel built with the `isal` feature

if [[ ! $RUNS =~ ^[1-9][0-9]*$ ]]; then
    echo "bench.sh: BENCH_RUNS must be a positive integer" >&2
    exit 2
fi
if [[ ! $SIZE =~ ^[0-9]+(\.[0-9]+)?[A-Za-z]*$ ]]; then
    echo "usage: scripts/bench.sh [SIZE]   (e.g. 200MB, 1.5GB)" >&2
    exit 2
fi
if [[ -n $ONLY && $ONLY != snowfunnel ]]; then
    echo "bench.sh: BENCH_ONLY takes one value, snowfunnel (got '$ONLY')" >&2
    exit 2
fi
if [[ -n $BASELINE ]]; then
    if ! BASELINE_HASH=$(git rev-parse --verify --quiet "$BASELINE^{commit}"); then
        echo "bench.sh: BENCH_BASELINE=$BASELINE does not name a commit of this repository" >&2
        exit 2
    fi
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
if [[ $ONLY == snowfunnel ]]; then
    # The generator is built in step 2, only when the data must be generated.
    step "building (release): snowfunnel"
    logged "$LOGS/build.log" cargo build --release -p snowfunnel
else
    step "building (release): snowfunnel, snowfunnel-gen, snowfunnel-benches"
    logged "$LOGS/build.log" cargo build --release -p snowfunnel -p snowfunnel-gen -p snowfunnel-benches
fi
note "log: $LOGS/build.log"
# The `isal` build: the same target dir, the binary kept aside, then the default build linked again
# (cargo keeps both builds' crates, so switching features relinks and recompiles little).
ISAL_BIN=$BENCH/isal/snowfunnel
if [[ $ISAL == 1 ]]; then
    step "building (release): snowfunnel --features isal, kept as $ISAL_BIN"
    logged "$LOGS/build-isal.log" cargo build --release -p snowfunnel --features isal
    mkdir -p "$BENCH/isal"
    cp "$RELEASE/snowfunnel" "$ISAL_BIN.tmp"
    mv "$ISAL_BIN.tmp" "$ISAL_BIN"
    logged "$LOGS/build.log" cargo build --release -p snowfunnel
    note "log: $LOGS/build-isal.log"
fi

# The baseline: snowfunnel at BENCH_BASELINE, built as above in a throw-away detached worktree with
# its own target dir (kept: a later build of another revision recompiles only what changed), the
# binary kept under its commit hash.
BASELINE_DIR=$BENCH/baseline
BASELINE_TREE=$BASELINE_DIR/worktree
# Removes the baseline's worktree and its registration, whatever state an earlier run left.
drop_baseline_tree() {
    git worktree remove --force "$BASELINE_TREE" >/dev/null 2>&1 || rm -rf "$BASELINE_TREE"
    git worktree prune
}
if [[ -n $BASELINE ]]; then
    BASELINE_SHORT=$(git rev-parse --short "$BASELINE_HASH")
    BASELINE_BIN=$BASELINE_DIR/bin/snowfunnel-$BASELINE_HASH
    if [[ -x $BASELINE_BIN ]]; then
        step "baseline: reusing snowfunnel built at $BASELINE ($BASELINE_SHORT): $BASELINE_BIN"
    else
        step "building (release): snowfunnel at $BASELINE ($BASELINE_SHORT), in $BASELINE_DIR"
        mkdir -p "$BASELINE_DIR/bin"
        drop_baseline_tree
        trap drop_baseline_tree EXIT # also when the build fails (die) or is interrupted
        logged "$LOGS/baseline-worktree.log" git worktree add --detach -f "$BASELINE_TREE" "$BASELINE_HASH"
        # Built from inside its worktree, so that its own Cargo.lock and .cargo/config.toml apply
        # (cargo merges the configs up the directory tree: this repository's applies too).
        logged "$LOGS/build-baseline.log" env -C "$BASELINE_TREE" CARGO_TARGET_DIR="$PWD/$BASELINE_DIR/target" \
            cargo build --release -p snowfunnel
        cp "$BASELINE_DIR/target/release/snowfunnel" "$BASELINE_BIN.tmp"
        mv "$BASELINE_BIN.tmp" "$BASELINE_BIN"
        drop_baseline_tree
        trap - EXIT
        note "log: $LOGS/build-baseline.log"
    fi
fi

# ---- 2. data --------------------------------------------------------------------------------
step "data: $DATA ($STAMP)"
if [[ ${BENCH_REGEN:-0} == 1 || ! -f $DATA/.stamp || $(cat "$DATA/.stamp") != "$STAMP" ]]; then
    rm -rf "$DATA" "$PLAIN"
    if [[ $ONLY == snowfunnel ]]; then
        logged "$LOGS/build-gen.log" cargo build --release -p snowfunnel-gen
    fi
    logged "$LOGS/generate.log" "$RELEASE/snowfunnel-gen" --seed "$SEED" --size "$SIZE" --files "$FILES" --out "$DATA"
    echo "$STAMP" >"$DATA/.stamp"
    note "$(cat "$LOGS/generate.log")"
else
    note "reusing it (BENCH_REGEN=1 to regenerate)"
fi
# "$DATA/": the directory may be a symlink to data generated elsewhere (find does not follow it otherwise).
mapfile -t GZ < <(find "$DATA/" -maxdepth 1 -name '*.gz' | sort)
((${#GZ[@]} == FILES)) || die "expected $FILES .gz files in $DATA, found ${#GZ[@]}"

compressed=0
for f in "${GZ[@]}"; do compressed=$((compressed + $(stat -c %s "$f"))); done
TSV=()
if [[ $ONLY == snowfunnel ]]; then
    # No plain-input run: the sizes come from one pass of gzip.
    read -r lines uncompressed < <(gzip -dc "${GZ[@]}" | wc -lc)
else
    # The plain-text copy for the uncompressed-input run: the same lines, decompressed once.
    if [[ ! -f $PLAIN/.stamp || $(cat "$PLAIN/.stamp") != "$STAMP" ]]; then
        rm -rf "$PLAIN"
        mkdir -p "$PLAIN"
        for f in "${GZ[@]}"; do
            gzip -dc "$f" >"$PLAIN/$(basename "$f" .gz).tsv"
        done
        echo "$STAMP" >"$PLAIN/.stamp"
    fi
    mapfile -t TSV < <(find "$PLAIN/" -maxdepth 1 -name '*.tsv' | sort)
    # The single-file case: every line in one gzip member, as one large dump would be.
    SINGLE=$BENCH/single-$SIZE/all.gz
    if [[ ! -f $BENCH/single-$SIZE/.stamp || $(cat "$BENCH/single-$SIZE/.stamp") != "$STAMP" ]]; then
        rm -rf "$BENCH/single-$SIZE"
        mkdir -p "$BENCH/single-$SIZE"
        cat "${TSV[@]}" | gzip -6 -c >"$SINGLE.tmp"
        mv "$SINGLE.tmp" "$SINGLE"
        echo "$STAMP" >"$BENCH/single-$SIZE/.stamp"
    fi
    uncompressed=0
    for f in "${TSV[@]}"; do uncompressed=$((uncompressed + $(stat -c %s "$f"))); done
    lines=$(cat "${TSV[@]}" | wc -l)
fi
note "$FILES files, $lines lines, $uncompressed bytes uncompressed, $compressed bytes compressed"

# ---- 3. tools -------------------------------------------------------------------------------
want=""
PY=python3 # without the peers: report.py and edge_cases.py need the standard library only
if [[ $ONLY == snowfunnel ]]; then
    step "tools: none (BENCH_ONLY=snowfunnel)"
else
    step "tools: libdeflate-gunzip, igzip, DuckDB $DUCKDB_VERSION and chdb $CHDB_VERSION"
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
    # igzip: ISA-L's own command line, the floor of the `isal` build.
    if ! command -v igzip >/dev/null; then
        apt_install isal || true
    fi
    if command -v igzip >/dev/null; then
        note "igzip: $(command -v igzip)"
    else
        note "NOTE: igzip is missing and apt-get could not install isal (see $LOGS/apt.log): its run is skipped"
        fact note_igzip "not installed: apt-get unusable here"
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
fi

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
if [[ $ONLY == snowfunnel ]]; then
    fact only snowfunnel
    fact versions "$("$RELEASE/snowfunnel" --version)"
else
    libdeflate_version=$(libdeflate-gunzip -V 2>/dev/null | head -n 1 | grep -o 'v[0-9.]*' || true)
    igzip_version=$(igzip -V 2>/dev/null | grep -o '[0-9][0-9.]*$' | head -n 1 || true) # "igzip command line interface 2.30.0"
    fact versions "$("$RELEASE/snowfunnel" --version), $want, libdeflate-gunzip ${libdeflate_version:-n/a}, igzip ${igzip_version:-n/a}"
fi
if [[ -n $BASELINE ]]; then
    current=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
    if [[ -n $(git status --porcelain 2>/dev/null) ]]; then current+=" with uncommitted changes"; fi
    fact current_rev "$current"
    fact baseline_ref "$BASELINE"
    fact baseline_rev "$BASELINE_SHORT"
fi

# The tools, in the order they run, and each one's command (set into CMD). The baseline's runs
# follow the current build's with the same threads.
TOOLS=()
snowfunnel_runs() {
    TOOLS+=("snowfunnel-$1")
    if [[ -n $BASELINE ]]; then TOOLS+=("baseline-$1"); fi
    if [[ $ISAL == 1 ]]; then TOOLS+=("isal-$1"); fi
}
if [[ $ONLY == snowfunnel ]]; then
    snowfunnel_runs 1t
    snowfunnel_runs 2t
else
    TOOLS+=(floor-1t floor-2t)
    if command -v libdeflate-gunzip >/dev/null; then TOOLS+=(libdeflate); fi
    if command -v igzip >/dev/null; then TOOLS+=(igzip); fi
    snowfunnel_runs 1t
    snowfunnel_runs 2t
    TOOLS+=(duckdb chdb snowfunnel-plain-1t single-1t single-2t)
    if [[ $ISAL == 1 ]]; then TOOLS+=(isal-single-1t isal-single-2t); fi
    TOOLS+=(floor-single-1t)
fi
# shellcheck disable=SC2016 # $@ and $f belong to the inner shell
LIBDEFLATE_LOOP='for f in "$@"; do libdeflate-gunzip -c "$f" >/dev/null; done'
# shellcheck disable=SC2016
IGZIP_LOOP='for f in "$@"; do igzip -d -c "$f" >/dev/null; done'
export BENCH_TMP=$RUN # DuckDB's spill directory (peers.py)
# One report time for every run, so that outputs compare byte for byte.
export SOURCE_DATE_EPOCH=1767225600
tool_command() {
    case $1 in
        # The floor: the same decoder as snowfunnel, inflating only; prints the decompressed size.
        floor-1t) CMD=("$RELEASE/snowfunnel-inflate-floor" --threads 1 "${GZ[@]}") ;;
        floor-2t) CMD=("$RELEASE/snowfunnel-inflate-floor" --threads 2 "${GZ[@]}") ;;
        floor-single-1t) CMD=("$RELEASE/snowfunnel-inflate-floor" --threads 1 "$SINGLE") ;;
        # Sequential, one process per file, output discarded.
        libdeflate) CMD=(bash -c "$LIBDEFLATE_LOOP" _ "${GZ[@]}") ;;
        igzip) CMD=(bash -c "$IGZIP_LOOP" _ "${GZ[@]}") ;;
        snowfunnel-1t | snowfunnel-2t)
            local threads=${1#snowfunnel-}
            CMD=("$RELEASE/snowfunnel" run --threads "${threads%t}" --quiet --out "$RUN/out-$threads"
                --funnel "$FUNNEL" "${GZ[@]}")
            ;;
        # The same run with snowfunnel built at BENCH_BASELINE.
        baseline-1t | baseline-2t)
            local threads=${1#baseline-}
            CMD=("$BASELINE_BIN" run --threads "${threads%t}" --quiet --out "$RUN/out-baseline-$threads"
                --funnel "$FUNNEL" "${GZ[@]}")
            ;;
        # The same run with snowfunnel built with the `isal` feature (gzip inflated by ISA-L).
        isal-1t | isal-2t)
            local threads=${1#isal-}
            CMD=("$ISAL_BIN" run --threads "${threads%t}" --quiet --out "$RUN/out-isal-$threads"
                --funnel "$FUNNEL" "${GZ[@]}")
            ;;
        # One file of one gzip member: one thread inflates, the others parse its chunks.
        single-1t | single-2t | isal-single-1t | isal-single-2t)
            local threads=${1##*-} bin=$RELEASE/snowfunnel
            if [[ $1 == isal-* ]]; then bin=$ISAL_BIN; fi
            CMD=("$bin" run --threads "${threads%t}" --quiet --out "$RUN/out-$1" --funnel "$FUNNEL" "$SINGLE")
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
if [[ -n $BASELINE ]]; then mkdir -p "$RUN/out-baseline-1t" "$RUN/out-baseline-2t"; fi
if [[ $ISAL == 1 ]]; then mkdir -p "$RUN/out-isal-1t" "$RUN/out-isal-2t"; fi
for name in single-1t single-2t isal-single-1t isal-single-2t; do mkdir -p "$RUN/out-$name"; done
for ((round = 1; round <= RUNS; round++)); do
    ((RUNS == 1)) || note "round $round of $RUNS"
    order=("${TOOLS[@]}")
    # Every other round runs the baseline before the current build, so that neither always
    # follows the same tool.
    if ((round % 2 == 0)); then
        for ((i = 0; i + 1 < ${#order[@]}; i++)); do
            if [[ ${order[i]} == snowfunnel-[12]t && ${order[i + 1]} == baseline-* ]]; then
                order[i]=${TOOLS[i + 1]}
                order[i + 1]=${TOOLS[i]}
            fi
        done
    fi
    for name in "${order[@]}"; do
        timed "$name" "$round"
    done
done

if [[ $ONLY != snowfunnel ]]; then
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
fi

# ---- 5. identical counts --------------------------------------------------------------------
status=0
csv_of() {
    local csvs=("$1"/*.csv)
    echo "${csvs[0]}"
}
counts=("snowfunnel-2t=$(csv_of "$RUN/out-2t")" "snowfunnel-1t=$(csv_of "$RUN/out-1t")")
names="snowfunnel 2t, 1t"
if [[ -n $BASELINE ]]; then
    counts+=("baseline-2t=$(csv_of "$RUN/out-baseline-2t")" "baseline-1t=$(csv_of "$RUN/out-baseline-1t")")
    names+=", baseline ($BASELINE_SHORT) 2t, 1t"
fi
if [[ $ISAL == 1 ]]; then
    counts+=("isal-2t=$(csv_of "$RUN/out-isal-2t")" "isal-1t=$(csv_of "$RUN/out-isal-1t")")
    names+=", isal build 2t, 1t"
fi
if [[ $ONLY != snowfunnel ]]; then
    counts+=("snowfunnel-plain-1t=$(csv_of "$RUN/out-plain-1t")" "duckdb=$RUN/counts/duckdb.csv"
        "chdb=$RUN/counts/chdb.csv" "single-1t=$(csv_of "$RUN/out-single-1t")"
        "single-2t=$(csv_of "$RUN/out-single-2t")")
    names+=", plain 1t, DuckDB, chdb, single file 1t, 2t"
    if [[ $ISAL == 1 ]]; then
        counts+=("isal-single-1t=$(csv_of "$RUN/out-isal-single-1t")" "isal-single-2t=$(csv_of "$RUN/out-isal-single-2t")")
        names+=", isal build single file 1t, 2t"
    fi
fi
step "counts per (variant, step): $names"
"$PY" scripts/bench/report.py compare "${counts[@]}" | tee "$RUN/compare.txt" || status=1

# Byte for byte: every output but the run record (_run.json names the output paths, _SUCCESS
# lists them) is the same whatever the decoder and the thread count, for the same inputs.
# identical REFERENCE_DIR DIR...: prints OK or FAIL with the differing files.
identical() {
    local ref=$1 dir file differ=()
    shift
    for dir in "$@"; do
        for file in "$ref"/*; do
            case ${file##*/} in _run.json | _SUCCESS) continue ;; esac
            cmp -s "$file" "$dir/${file##*/}" || differ+=("$dir/${file##*/}")
        done
    done
    if ((${#differ[@]} == 0)); then
        echo "OK: outputs of ${*##*/} byte for byte those of ${ref##*/}"
    else
        echo "FAIL: outputs differ from ${ref##*/}'s: ${differ[*]}"
        return 1
    fi
}
step "outputs byte for byte across decoders and thread counts"
same=("$RUN/out-2t")
if [[ $ISAL == 1 ]]; then same+=("$RUN/out-isal-1t" "$RUN/out-isal-2t"); fi
identical "$RUN/out-1t" "${same[@]}" | tee -a "$RUN/compare.txt" || status=1
if [[ $ONLY != snowfunnel ]]; then
    same=("$RUN/out-single-2t")
    if [[ $ISAL == 1 ]]; then same+=("$RUN/out-isal-single-1t" "$RUN/out-isal-single-2t"); fi
    identical "$RUN/out-single-1t" "${same[@]}" | tee -a "$RUN/compare.txt" || status=1
fi

# The same check on a few hand-written lines that probe the rules where a SQL formulation can
# drift from snowfunnel's (event time at the epoch and at the range ends, odd timestamps and keys,
# invalid JSON, lines with extra empty trailing fields): see scripts/bench/edge_cases.py.
# With BENCH_ONLY=snowfunnel, only when there is a baseline or an isal build to compare with.
if [[ $ONLY != snowfunnel || -n $BASELINE || $ISAL == 1 ]]; then
    names=snowfunnel
    if [[ -n $BASELINE ]]; then names+=", baseline ($BASELINE_SHORT)"; fi
    if [[ $ISAL == 1 ]]; then names+=", isal build"; fi
    if [[ $ONLY != snowfunnel ]]; then names+=", DuckDB, chdb"; fi
    step "counts on scripts/bench/edge_cases.py's lines: $names"
    EDGE=$RUN/edge
    mkdir -p "$EDGE/out"
    "$PY" scripts/bench/edge_cases.py "$EDGE/edge_cases.gz"
    logged "$LOGS/edge-snowfunnel.log" "$RELEASE/snowfunnel" run --threads 1 --max-bad-ratio 1 --out "$EDGE/out" \
        --funnel "$FUNNEL" "$EDGE/edge_cases.gz"
    counts=("snowfunnel=$(csv_of "$EDGE/out")")
    if [[ -n $BASELINE ]]; then
        mkdir -p "$EDGE/out-baseline"
        logged "$LOGS/edge-baseline.log" "$BASELINE_BIN" run --threads 1 --max-bad-ratio 1 \
            --out "$EDGE/out-baseline" --funnel "$FUNNEL" "$EDGE/edge_cases.gz"
        counts+=("baseline=$(csv_of "$EDGE/out-baseline")")
    fi
    if [[ $ISAL == 1 ]]; then
        mkdir -p "$EDGE/out-isal"
        logged "$LOGS/edge-isal.log" "$ISAL_BIN" run --threads 1 --max-bad-ratio 1 \
            --out "$EDGE/out-isal" --funnel "$FUNNEL" "$EDGE/edge_cases.gz"
        counts+=("isal=$(csv_of "$EDGE/out-isal")")
    fi
    if [[ $ONLY != snowfunnel ]]; then
        for peer in duckdb chdb; do
            logged "$LOGS/edge-$peer.log" "$PY" scripts/bench/peers.py "$peer" --funnel "$FUNNEL" \
                --threads "$PEER_THREADS" --out "$EDGE/$peer.csv" "$EDGE/edge_cases.gz"
        done
        counts+=("duckdb=$EDGE/duckdb.csv" "chdb=$EDGE/chdb.csv")
    fi
    "$PY" scripts/bench/report.py compare "${counts[@]}" | tee -a "$RUN/compare.txt" || status=1
fi

# ---- 6. the table ---------------------------------------------------------------------------
step "results"
"$PY" scripts/bench/report.py table "$RUN" | tee "$BENCH/results-$SIZE${ONLY:+-$ONLY}.md"
if ((status != 0)); then
    echo
    echo "FAIL: the tools disagree on the counts (see above and $RUN/compare.txt)"
fi
exit "$status"
