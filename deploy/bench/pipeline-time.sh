#!/usr/bin/env bash
# CPU time per reading of the whole ingestion path (decode, message IDs, dedup, stream store, hourly windows), for
# IngestBench builds side by side (a benchmark, not a test): the same `IngestBench pipeline BOILERS BATCH MESSAGES`
# runs as pipeline-instructions.sh counts, timed instead. The CPU seconds (user + system) of a run with N messages
# are subtracted from those of a run with 2N, so that the start-up (allocating and clearing the stream) cancels, and
# divided by N * BATCH. The builds take turns, RUNS rounds, so that a shared machine's noise falls on all of them;
# prints each round and the medians, in ns per reading.
#
#   deploy/bench/pipeline-time.sh INGEST_BENCH... [-- "BOILERS BATCH MESSAGES" [RUNS]]
#   e.g. deploy/bench/pipeline-time.sh /tmp/IngestBench.old /tmp/IngestBench.new -- "20 100 100000" 5
set -euo pipefail
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$1"); shift; done
[ $# -gt 0 ] && shift
case="${1:-20 100 100000}"
runs="${2:-5}"
[ ${#builds[@]} -gt 0 ] || { echo "usage: pipeline-time.sh INGEST_BENCH... [-- \"BOILERS BATCH MESSAGES\" [RUNS]]" >&2; exit 2; }
read -r boilers batch messages <<<"$case"
work="$(mktemp -d /tmp/pipeline-time-XXXXXX)"
trap 'rm -rf "$work"' EXIT

cpu() {  # cpu BINARY MESSAGES: user + system seconds of one run
    /usr/bin/time -f "%U %S" -o "$work/time" "$1" pipeline "$boilers" "$batch" "$2" >/dev/null
    awk '{print $1 + $2}' "$work/time"
}

printf '| round |'
for build in "${builds[@]}"; do printf ' %s |' "$(basename "$build")"; done
printf '\n|---|'
for _ in "${builds[@]}"; do printf -- '---|'; done
printf '\n'
for round in $(seq 1 "$runs"); do
    printf '| %s |' "$round"
    for index in "${!builds[@]}"; do
        one="$(cpu "${builds[$index]}" "$messages")"
        two="$(cpu "${builds[$index]}" "$((2 * messages))")"
        ns="$(awk -v a="$one" -v b="$two" -v n="$((messages * batch))" 'BEGIN {printf "%.1f", (b - a) / n * 1e9}')"
        echo "$ns" >> "$work/build$index"
        printf ' %s |' "$ns"
    done
    printf '\n'
done
printf '| median |'
for index in "${!builds[@]}"; do printf ' %s |' "$(sort -n "$work/build$index" | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}')"; done
printf '\n'
