#!/usr/bin/env bash
# Ingestion benchmark (issue 4): on this machine, with broker, publisher and worker all here, one run per case,
# side by side: the ingestion worker (IngestBench worker) and `mosquitto_sub -C N > /dev/null` subscribe to the
# same stream of messages from one publisher; each one's CPU seconds per million messages, and whether it got
# everything.
#
#   deploy/bench/ingest.sh                                          # the default cases
#   deploy/bench/ingest.sh "RATE BOILERS BATCH SECONDS QOS" ...     # custom cases
#   TCP_NODELAY=1 deploy/bench/ingest.sh ...                        # the worker with TCP_NODELAY set
#   INGEST_BENCH=/path/to/IngestBench deploy/bench/ingest.sh ...    # another build of the worker (A/B runs)
#   RECEIVE_WINDOWS_US="0 2000" deploy/bench/ingest.sh ...          # one worker per MQTT receive window, side by side
#                                                                   # on the same messages (default: one, window 0)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"

if [ -n "${INGEST_BENCH:-}" ]; then
    bench="$INGEST_BENCH"
else
    (cd Benchmarks && swift build -c release --product IngestBench >&2)
    bench="$root/Benchmarks/.build/release/IngestBench"
fi

state="$(mktemp -d /tmp/boiler-bench-XXXXXX)"
export BOILER_SERVICES_DIR="$state"
trap 'deploy/local/services.sh stop >/dev/null 2>&1 || true' EXIT
deploy/local/services.sh start-mqtt >/dev/null
port="$(cat "$state/mqtt_port")"
url="mqtt://127.0.0.1:$port"

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    # messages/s, boilers, readings per message, seconds, QoS
    cases=("10000 100 1 10 1" "20000 100 1 10 1" "40000 100 1 10 1" "10000 1000 10 10 1")
fi

json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

printf '| messages/s asked | achieved | boilers | readings/msg | QoS | sent | mosquitto_sub got | receive window µs | worker got | mosquitto_sub CPU s per M msgs | worker CPU s per M msgs | ratio | worker peak RSS MB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for case in "${cases[@]}"; do
    read -r rate boilers batch seconds qos <<<"$case"
    count=$(( rate * seconds ))
    readings=$(( count * batch ))
    workers=()
    for window in ${RECEIVE_WINDOWS_US:-0}; do
        : > "$state/worker.$window.out"
        RECEIVE_WINDOW_US="$window" "$bench" "${WORKER_MODE:-worker}" "$url" "$readings" "$qos" > "$state/worker.$window.out" &
        workers+=($!)
        for _ in $(seq 1 200); do grep -q ready "$state/worker.$window.out" 2>/dev/null && break; sleep 0.05; done
    done
    /usr/bin/time -f "%U %S" -o "$state/sub.time" \
        mosquitto_sub -h 127.0.0.1 -p "$port" -q "$qos" -t 'boilers/+/telemetry' -C "$count" -W $(( seconds + 30 )) \
        > "$state/sub.out" 2>/dev/null &
    sub=$!
    sleep 0.5
    "$bench" publish "$url" "$boilers" "$rate" "$seconds" "$batch" "$qos" > "$state/pub.out"
    wait "$sub" || true
    for worker in "${workers[@]}"; do wait "$worker" || true; done
    got_sub=$(wc -l < "$state/sub.out")
    read -r su ss < <(tail -1 "$state/sub.time")
    sub_cpu=$(python3 -c "print(f'{($su + $ss) / max($got_sub, 1) * 1e6:.2f}')")
    achieved=$(json "$(grep '^{' "$state/pub.out" | tail -1)" "f\"{d['published'] / d['send_seconds']:.0f}\"")
    for window in ${RECEIVE_WINDOWS_US:-0}; do
        line=$(grep '^{' "$state/worker.$window.out" | tail -1)
        worker_cpu=$(json "$line" "f\"{d['cpu_seconds'] / max(d['messages'] - 1, 1) * 1e6:.2f}\"")
        ratio=$(python3 -c "print(f'{$worker_cpu / max($sub_cpu, 1e-9):.2f}')")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s msgs, %s readings stored | %s | %s | %s | %s |\n' \
            "$rate" "$achieved" "$boilers" "$batch" "$qos" "$count" "$got_sub" "$window" \
            "$(json "$line" "d['messages']")" "$(json "$line" "d['stream_messages']")" \
            "$sub_cpu" "$worker_cpu" "$ratio" "$(json "$line" "f\"{d['peak_rss_mb']:.0f}\"")"
    done
done
