#!/usr/bin/env bash
# Regenerates the bundled sample (testdata/sample/) with the project's deterministic generator,
# then the golden CSVs (testdata/golden/) from a run of snowfunnel over it with funnels/.
# Run it after an intended change to the generator or to the output format, and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."

SEED=2026
EVENTS=6000
FILES=3

rm -rf testdata/sample testdata/golden
cargo run --quiet --release -p snowfunnel-gen -- --seed "$SEED" --events "$EVENTS" --files "$FILES" --out testdata/sample
cargo run --quiet --release -p snowfunnel -- run --quiet --funnel funnels/ --out testdata/golden testdata/sample/
# The completion marker holds the run's time: the golden test checks it is written, not its bytes.
rm testdata/golden/_SUCCESS
ls -l testdata/sample testdata/golden
