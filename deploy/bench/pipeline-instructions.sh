#!/usr/bin/env bash
# Instructions per reading of the whole ingestion path (decode, message IDs, dedup, stream store, hourly windows),
# for IngestBench builds side by side (a benchmark, not a test): `IngestBench pipeline BOILERS BATCH MESSAGES` feeds
# payloads as the `publish` mode makes them straight into IngestPipeline.handle, without MQTT. valgrind's lackey
# counts the instructions of a run with N messages and one with 2N; their difference divided by N * BATCH is the
# cost of one reading without the start-up's. The harness's own making of the payloads (`pipeline ... dry`, the
# same difference) is subtracted. Counts do not move with the other tenants of a shared machine; they do
# not see cache misses (deploy/bench/ingest.sh measures time, beside mosquitto_sub).
#
#   deploy/bench/pipeline-instructions.sh INGEST_BENCH... [-- "BOILERS BATCH MESSAGES" ...]
#   e.g. deploy/bench/pipeline-instructions.sh /tmp/IngestBench.old /tmp/IngestBench.new -- "20 100 200" "1000 10 2000"
set -euo pipefail
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
builds=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do builds+=("$1"); shift; done
[ $# -gt 0 ] && shift
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=("20 100 200" "1000 10 2000" "100 1 20000")
[ ${#builds[@]} -gt 0 ] || { echo "usage: pipeline-instructions.sh INGEST_BENCH... [-- \"BOILERS BATCH MESSAGES\" ...]" >&2; exit 2; }

work="$(mktemp -d /tmp/pipeline-instructions-XXXXXX)"
trap 'rm -rf "$work"' EXIT
instructions() {  # instructions BINARY BOILERS BATCH MESSAGES [dry] (a stripped copy: valgrind 3.19 gives up on Swift's debug info)
    local stripped
    stripped="$work/$(basename "$1")"
    [ -x "$stripped" ] || strip -o "$stripped" "$1"
    valgrind --tool=lackey --basic-counts=yes "$stripped" pipeline "$2" "$3" "$4" ${5:-} 2>&1 >/dev/null | awk '/guest instrs:/ {gsub(",", "", $NF); print $NF}'
}

printf '| boilers | readings/msg | messages (N) |'
for build in "${builds[@]}"; do printf ' %s |' "$(basename "$build")"; done
printf '\n|---|---|---|'
for _ in "${builds[@]}"; do printf -- '---|'; done
printf '\n'
for case in "${cases[@]}"; do
    read -r boilers batch messages <<<"$case"
    printf '| %s | %s | %s |' "$boilers" "$batch" "$messages"
    for build in "${builds[@]}"; do
        one="$(instructions "$build" "$boilers" "$batch" "$messages")"
        two="$(instructions "$build" "$boilers" "$batch" "$((2 * messages))")"
        dry_one="$(instructions "$build" "$boilers" "$batch" "$messages" dry)"
        dry_two="$(instructions "$build" "$boilers" "$batch" "$((2 * messages))" dry)"
        printf ' %s |' "$(( (two - one - (dry_two - dry_one)) / (messages * batch) ))"
    done
    printf '\n'
done
