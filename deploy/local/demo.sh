#!/usr/bin/env bash
# The one-command demo: builds boilerd, boiler-sim and boilerctl (release), starts a throwaway mosquitto and
# PostgreSQL (deploy/local/services.sh, which installs what is missing), runs boilerd and a simulated fleet
# (default 50 boilers, 3 event hours at 60x: 3 minutes), shows progress, then prints the hourly snapshot rows
# beside the simulator's ground truth, the controller's decisions, and the dashboard's URL.
#
#   deploy/local/demo.sh [--keep]
#
# --keep leaves boilerd and the services running (stop them with: deploy/local/demo.sh --stop).
# Tunable: DEMO_BOILERS (50), DEMO_HOURS (3), DEMO_ACCEL (60), DEMO_BATCH (10), DEMO_PERIOD_MS (10),
# DEMO_FAULTS (duplicate=0.001,malformed=0.0005), DEMO_HTTP_PORT (8080), DEMO_BUILD (release|debug).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
state="${DEMO_STATE:-/tmp/boilerpipeline-demo}"
export BOILER_SERVICES_DIR="$state/services"
services=deploy/local/services.sh

stop_all() {
    if [ -f "$state/boilerd.pid" ]; then
        kill -TERM "$(cat "$state/boilerd.pid")" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$(cat "$state/boilerd.pid")" 2>/dev/null || break; sleep 0.1; done
        rm -f "$state/boilerd.pid"
    fi
    "$services" stop >/dev/null 2>&1 || true
}
if [ "${1:-}" = "--stop" ]; then stop_all; echo "demo stopped"; exit 0; fi
keep=0
[ "${1:-}" = "--keep" ] && keep=1

boilers="${DEMO_BOILERS:-50}"; hours="${DEMO_HOURS:-3}"; accel="${DEMO_ACCEL:-60}"; batch="${DEMO_BATCH:-10}"
period="${DEMO_PERIOD_MS:-10}"; faults="${DEMO_FAULTS:-duplicate=0.001,malformed=0.0005}"; port="${DEMO_HTTP_PORT:-8080}"
build="${DEMO_BUILD:-release}"

command -v swift >/dev/null || { echo "demo.sh: Swift is needed (https://swift.org/install)" >&2; exit 1; }
command -v psql >/dev/null || { echo "demo.sh: psql (PostgreSQL 15) is needed" >&2; exit 1; }

echo "== building ($build; the first build takes several minutes)"
for product in boilerd boiler-sim boilerctl; do swift build -c "$build" --product "$product" 2>&1 | tail -1; done
bin="$(swift build -c "$build" --show-bin-path)"

stop_all
mkdir -p "$state"
echo "== starting mosquitto and PostgreSQL (throwaway, loopback)"
eval "$("$services" start)"

export BOILERD_MQTT_URL="$BOILER_TEST_MQTT_URL" BOILERD_DATABASE_URL="$BOILER_TEST_DATABASE_URL"
export BOILERD_HTTP_PORT="$port" BOILERD_MQTT_CLIENT_ID="boilerd-demo" BOILERD_IDLE_ALLOWANCE_MS=3000
"$bin/boilerd" run > "$state/boilerd.log" 2>&1 &
echo $! > "$state/boilerd.pid"
trap '[ $keep = 1 ] || stop_all' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "demo.sh: boilerd did not become ready; see $state/boilerd.log" >&2; exit 1; }
echo "== boilerd ready: http://127.0.0.1:$port/ (log: $state/boilerd.log)"

echo "== boiler-sim: $boilers boilers, $hours event hours, a reading every $period ms in messages of $batch, at ${accel}x"
"$bin/boiler-sim" --mqtt-url "$BOILER_TEST_MQTT_URL" --boilers "$boilers" --period-ms "$period" --batch "$batch" \
    --duration "${hours}h" --accel "$accel" --seed 42 --faults "$faults" --truth "$state/truth.jsonl" --progress-interval 10

expected=$((boilers * hours))
echo "== waiting for the $expected boiler-hours to be written (the last hour closes once the fleet is quiet)"
db() { psql "$BOILER_TEST_DATABASE_URL" -v ON_ERROR_STOP=1 "$@"; }
for _ in $(seq 1 120); do
    written=$(db -Atc "SELECT count(*) FROM hourly_snapshots WHERE boiler_id LIKE 'b____'")
    [ "$written" -ge "$expected" ] && break
    sleep 1
done

echo "== hourly snapshots (PostgreSQL) beside the simulator's truth"
db -Atc "COPY (SELECT boiler_id, (extract(epoch FROM hour_start) * 1000)::bigint, samples, mean_c, min_c, max_c, coverage, duplicates
          FROM hourly_snapshots ORDER BY boiler_id, hour_start) TO STDOUT WITH CSV" > "$state/rows.csv"
python3 - "$state/truth.jsonl" "$state/rows.csv" <<'PY'
import csv, json, sys
truth = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' not in l]
summary = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l][0]
rows = {(r[0], int(r[1])): r for r in csv.reader(open(sys.argv[2]))}
print(f"{'boiler':8} {'hour (UTC)':20} {'samples':>8} {'truth':>8} {'mean °C':>10} {'truth':>10} {'min':>6} {'max':>6} {'coverage':>8} {'dups':>5}  verdict")
equal = 0
for i, t in enumerate(truth):
    r = rows.get((t["boiler_id"], t["hour_start_ms"]))
    if r is None:
        verdict = "MISSING"
        line = (t["boiler_id"], t["hour_start"].replace("T", " "), "-", t["samples"], "-", t["mean_c"], "-", "-", "-", "-")
    else:
        same = int(r[2]) == t["samples"] and abs(float(r[3]) - t["mean_c"]) <= 1e-9 * abs(t["mean_c"]) \
            and float(r[4]) == t["min_c"] and float(r[5]) == t["max_c"]
        equal += same
        verdict = "equal" if same else "DIFFERENT"
        line = (t["boiler_id"], t["hour_start"].replace("T", " "), r[2], t["samples"], f"{float(r[3]):.4f}", f"{t['mean_c']:.4f}",
                r[4], r[5], f"{float(r[6]):.4f}", r[7])
    if i < 12 or verdict != "equal":
        print(f"{line[0]:8} {line[1]:20} {line[2]:>8} {line[3]:>8} {line[4]:>10} {line[5]:>10} {line[6]:>6} {line[7]:>6} {line[8]:>8} {line[9]:>5}  {verdict}")
if len(truth) > 12:
    print(f"... ({len(truth) - 12} more)")
f = summary["faults"]
print(f"\n{equal} of {len(truth)} boiler-hours equal the truth (samples, min, max exact; mean within 1e-9).")
print(f"simulator: {summary['readings_delivered']} readings delivered in {summary['messages_sent']} messages; injected "
      f"{f['duplicate_messages']} duplicate messages ({f['duplicate_readings']} readings), {f['malformed_messages']} malformed payloads; "
      f"{summary['setpoints_applied']} setpoints applied by the boilers")
PY

echo
echo "== pipeline counters (GET /metrics)"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^boiler_(readings_ingested_total|readings_duplicate_total|snapshots_written_total|setpoint_commands_total) |^boiler_payloads_rejected_total\{reason="(malformed-json|missing-field|wrong-type|water-out-of-range|unknown-field|unsupported-version)"\}'

echo
echo "== controller decisions (PostgreSQL controller_decisions)"
db -c "SELECT trusted, reason, count(*) AS decisions, count(*) FILTER (WHERE published) AS commands_sent
       FROM controller_decisions GROUP BY trusted, reason ORDER BY trusted DESC, decisions DESC"
echo "the last decisions for b0000 (boilerctl decisions b0000):"
"$bin/boilerctl" decisions b0000 --url "http://127.0.0.1:$port" --from 0 | tail -6

echo
echo "dashboard: http://127.0.0.1:$port/    API: http://127.0.0.1:$port/v1/boilers    metrics: http://127.0.0.1:$port/metrics"
if [ $keep = 1 ]; then
    echo "left running (--keep). Stop with: deploy/local/demo.sh --stop"
else
    echo "stopping (use --keep to leave it running)"
fi
