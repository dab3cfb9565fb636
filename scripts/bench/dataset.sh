# Sourced by the scripts that reuse scripts/bench.sh's dataset: sets DATA to .bench/data-$1 and
# stops with a hint when bench.sh has not generated it yet.
DATA=".bench/data-$1"
if ! ls "$DATA"/*.gz > /dev/null 2>&1; then
    echo "no dataset in $DATA: run scripts/bench.sh $1 first (it generates it)" >&2
    exit 1
fi
