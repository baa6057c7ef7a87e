#!/usr/bin/env bash
# What being a multi-threaded process costs an MQTT receiver (issue 9; a benchmark, not a test). boilerd is
# multi-threaded by nature (libmosquitto's network thread, SwiftNIO, PostgresNIO); mosquitto_sub is not, and glibc
# and the kernel take cheaper paths for a single-threaded process (no atomic cancellation bookkeeping around each
# read, write and select; no atomic reference counts on file lookups; libmosquitto's mutexes without atomics).
#
# On a throwaway broker and PostgreSQL, with boilerd running and boiler-sim sending BOILERS boilers at 10 ms,
# single readings, QoS 1, in real time, it runs side by side on the same telemetry:
#   - mosquitto_sub as it is;
#   - the same mosquitto_sub made multi-threaded by one extra thread that only sleeps (an LD_PRELOAD shim);
# and prints, per round of SECONDS, the CPU ticks of each and of boilerd, and the ratios.
#
#   deploy/bench/threads-floor.sh [SECONDS (default 60)] [ROUNDS (default 3)] [BOILERS (default 100)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source deploy/bench/boilerd-lib.sh
seconds="${1:-60}"
rounds="${2:-3}"
boilers="${3:-100}"

swift build -c release --product boilerd >&2
swift build -c release --product boiler-sim >&2
bin="$(swift build -c release --show-bin-path)"

work="$(mktemp -d /tmp/boiler-threads-XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    BOILER_SERVICES_DIR="$work/services" deploy/local/services.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

cat > "$work/shim.c" <<'C'
/* One extra thread that sleeps forever: the process is then multi-threaded and does nothing else differently. */
#include <pthread.h>
#include <unistd.h>
static void *idle(void *arg) { (void)arg; for (;;) pause(); return 0; }
__attribute__((constructor)) static void start(void) {
    pthread_t thread;
    if (pthread_create(&thread, 0, idle, 0) == 0) pthread_detach(thread);
}
C
cc -O2 -shared -fPIC -o "$work/shim.so" "$work/shim.c" -lpthread

export BOILER_SERVICES_DIR="$work/services"
eval "$(deploy/local/services.sh start)"
mqtt_port="${BOILER_TEST_MQTT_URL##*:}"
http_port="$(free_port)"
BOILERD_MQTT_URL="$BOILER_TEST_MQTT_URL" BOILERD_DATABASE_URL="$BOILER_TEST_DATABASE_URL" BOILERD_HTTP_PORT="$http_port" \
    BOILERD_MQTT_CLIENT_ID="boilerd-threads" BOILERD_LOG_LEVEL=warning "$bin/boilerd" run > "$work/boilerd.log" 2>&1 &
boilerd=$!
pids+=("$boilerd")
wait_ready "http://127.0.0.1:$http_port" threads-floor.sh "$work/boilerd.log"

total=$(( (seconds + 10) * rounds + 30 ))
"$bin/boiler-sim" --mqtt-url "$BOILER_TEST_MQTT_URL" --boilers "$boilers" --period-ms 10 --batch 1 --duration "${total}s" \
    --accel 1 --start now --qos 1 --seed 7 > "$work/sim.out" 2>&1 &
pids+=($!)
sleep 5

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "machine: $(nproc) cores, $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ); $boilers boilers at 10 ms, single readings, QoS 1"
echo
echo "| round | mosquitto_sub ticks | multi-threaded mosquitto_sub ticks | boilerd ticks | multi/plain | boilerd/plain | boilerd/multi |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
    mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q 1 -i "plain-$round" -t 'boilers/+/telemetry' > /dev/null &
    plain=$!
    LD_PRELOAD="$work/shim.so" mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q 1 -i "multi-$round" -t 'boilers/+/telemetry' \
        > /dev/null &
    multi=$!
    pids+=("$plain" "$multi")
    sleep 3
    [ "$(ls "/proc/$multi/task" | wc -l)" -ge 2 ] || { echo "threads-floor.sh: the shim did not add a thread" >&2; exit 1; }
    p0=$(ticks "$plain"); m0=$(ticks "$multi"); b0=$(ticks "$boilerd")
    sleep "$seconds"
    p1=$(ticks "$plain"); m1=$(ticks "$multi"); b1=$(ticks "$boilerd")
    kill "$plain" "$multi"
    python3 -c "p, m, b = $((p1 - p0)), $((m1 - m0)), $((b1 - b0)); print(f'| $round | {p} | {m} | {b} | {m / p:.3f} | {b / p:.2f} | {b / m:.2f} |')"
    sleep 2
done
tail -1 "$work/sim.out"
