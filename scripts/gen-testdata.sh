#!/usr/bin/env bash
# Regenerates the bundled sample (testdata/sample/) with the project's deterministic generator,
# then the golden reports (testdata/golden/: CSV, JSON, HTML) from a run of snowfunnel over it with
# funnels/, stamped with the fixed time of the golden test (SOURCE_DATE_EPOCH, 2026-03-15).
# Run it after an intended change to the generator or to the output format, and review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."

SEED=2026
EVENTS=6000
FILES=3

rm -rf testdata/sample testdata/golden testdata/golden-explain
cargo run --quiet --release -p snowfunnel-gen -- --seed "$SEED" --events "$EVENTS" --files "$FILES" --out testdata/sample
SOURCE_DATE_EPOCH=1773532800 cargo run --quiet --release -p snowfunnel -- run --quiet --funnel funnels/ \
  --out testdata/golden testdata/sample/
rm testdata/golden/_SUCCESS
# The waterfalls of the same funnels under both rule sets (`snowfunnel explain`).
cargo run --quiet --release -p snowfunnel -- explain --quiet --funnel funnels/ --rules snowfunnel,warehouse \
  --out testdata/golden-explain testdata/sample/ 2>/dev/null
ls -l testdata/sample testdata/golden testdata/golden-explain
