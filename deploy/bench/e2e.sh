#!/usr/bin/env bash
# End-to-end benchmark (issue 9; a benchmark, not a test). For each case, on this machine: a throwaway mosquitto
# and PostgreSQL (deploy/local/services.sh), the release boilerd, boiler-sim publishing the fleet, and side by
# side on the same broker `mosquitto_sub -C N > /dev/null` on the same telemetry, plus a latency probe
# (deploy/bench/probe.py, 100 messages/s of boiler `probe`, also read by a second mosquitto_sub). It prints one
# table row per case:
#   - readings the simulator sent, and whether boilerd accounted for every one (stored + duplicates + rejected);
#   - readings/s (over the simulator's wall time);
#   - boilerd's CPU seconds per million messages and per million readings (whole process, /proc, from the
#     simulator's start to the last reading counted), mosquitto_sub's per million messages, and the ratio;
#   - boilerd's peak RSS (VmHWM) and its RSS one minute in (when the stream's ring and
#     dedup table have filled, at 100,000 readings/s) and at the end (sampled every 10 s);
#   - publish-to-stream latency p50/p99 (probe send → boilerd stored it, `stored_at_ns`) beside publish-to-
#     delivery p50/p99 for mosquitto_sub (probe send → `%U`), exact percentiles of every probe message;
#   - the delay from an hour closing in boilerd to its row being in PostgreSQL (written_at - closed_at).
#
#   deploy/bench/e2e.sh                          # the default cases (about 20 minutes)
#   deploy/bench/e2e.sh "NAME BOILERS PERIOD_MS BATCH DURATION ACCEL QOS" ...
#
# DURATION is event time (boiler-sim --duration); ACCEL is a number or max. With ACCEL 1 the fleet runs in real
# time (--start now), so DURATION is also the wall time. SIM_NICE=N runs boiler-sim at that niceness (default 0),
# for telling a backlog caused by the load generator's own CPU use from one caused by boilerd.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source deploy/bench/boilerd-lib.sh
root="$PWD"

swift build -c release --product boilerd >&2
swift build -c release --product boiler-sim >&2
bin="$(swift build -c release --show-bin-path)"

cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
    cases=(
        "a-single-realtime 100 10 1 60s 1 1"
        "a-single-max 100 10 1 10m max 1"
        "b-batch10-realtime 1000 10 10 10m 1 1"
        "c-batch100-max 1000 10 100 10m max 1"
    )
fi

work="$(mktemp -d /tmp/boiler-e2e-XXXXXX)"
chmod 755 "$work"  # PostgreSQL runs as the postgres user and must reach its folder
cleanup() {
    [ -f "$work/boilerd.pid" ] && kill -TERM "$(cat "$work/boilerd.pid")" 2>/dev/null || true
    for dir in "$work"/*/services; do BOILER_SERVICES_DIR="$dir" deploy/local/services.sh stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
metric_sum() { curl -sf "$1/metrics" | awk -v name="$2" '$1 == name || index($1, name "{") == 1 {sum += $2} END {printf "%d\n", sum}'; }
counted() {
    local url="$1"
    echo $(( $(metric_sum "$url" boiler_readings_ingested_total) + $(metric_sum "$url" boiler_readings_duplicate_total) \
        + $(metric_sum "$url" boiler_payloads_rejected_total) ))
}
ticks_per_second="$(getconf CLK_TCK)"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
printf '| case | boilers | readings/msg | accel | sim sent readings | boilerd accounted | readings/s | boilerd CPU s per M msgs | per M readings | mosquitto_sub CPU s per M msgs (got) | ratio | peak RSS MB | RSS MB 1 min → end | stream p50/p99 µs | mosquitto_sub p50/p99 µs | probe sent/stored/delivered | snapshot→PG delay p50/max ms (rows) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'

for case in "${cases[@]}"; do
    read -r name boilers period batch duration accel qos <<<"$case"
    dir="$work/$name"
    mkdir -p "$dir"
    export BOILER_SERVICES_DIR="$dir/services"
    env_lines="$(deploy/local/services.sh start)" || { echo "e2e.sh: services did not start" >&2; exit 1; }
    eval "$env_lines"
    mqtt_port="${BOILER_TEST_MQTT_URL##*:}"
    http_port="$(free_port)"
    api="http://127.0.0.1:$http_port"

    BOILERD_MQTT_URL="$BOILER_TEST_MQTT_URL" BOILERD_DATABASE_URL="$BOILER_TEST_DATABASE_URL" BOILERD_HTTP_PORT="$http_port" \
        BOILERD_MQTT_CLIENT_ID="boilerd-e2e" BOILERD_IDLE_ALLOWANCE_MS=3000 BOILERD_LOG_LEVEL=warning \
        "$bin/boilerd" run > "$dir/boilerd.log" 2>&1 &
    boilerd=$!
    echo "$boilerd" > "$work/boilerd.pid"
    wait_ready "$api" e2e.sh "$dir/boilerd.log"

    # The messages the simulator will send, for mosquitto_sub -C.
    messages="$(python3 - "$boilers" "$period" "$batch" "$duration" <<'PY'
import re, sys
boilers, period, batch, duration = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
units = {"h": 3_600_000, "m": 60_000, "s": 1_000}
ms = sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration))
per_boiler = ms // period
print(boilers * ((per_boiler + batch - 1) // batch))
PY
)"
    /usr/bin/time -f "%U %S" -o "$dir/sub.time" mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q "$qos" -i e2e-sub \
        -t 'boilers/+/telemetry' -T boilers/probe/telemetry -C "$messages" -W 3600 > /dev/null 2>"$dir/sub.err" &
    sub=$!
    mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -q 1 -i e2e-probe-sub -t boilers/probe/telemetry -F '%U %p' \
        > "$dir/probe.sub" 2>/dev/null &
    probe_sub=$!
    sleep 1

    # Real time starts now. Faster runs start at :55 an hour and more ago, so an hour closes 5 minutes of event
    # time in, under load, and gives the snapshot→PostgreSQL delays. (The last hour stays open: the probe keeps
    # traffic going, so the wall-clock rule does not close it; that is as designed.)
    if [ "$accel" = "1" ]; then
        start_args=(--start now)
    else
        start_args=(--start "$(python3 -c 'import datetime as d; t = d.datetime.now(d.timezone.utc).replace(minute=0, second=0, microsecond=0) - d.timedelta(minutes=65); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))')")
    fi
    cpu_start="$(cpu_ticks "$boilerd")"
    wall_start="$(date +%s.%N)"
    nice -n "${SIM_NICE:-0}" "$bin/boiler-sim" --mqtt-url "$BOILER_TEST_MQTT_URL" --boilers "$boilers" --period-ms "$period" --batch "$batch" \
        --duration "$duration" --accel "$accel" --qos "$qos" --seed 7 --truth "$dir/truth.jsonl" \
        --progress-interval 30 "${start_args[@]}" > "$dir/sim.out" 2>&1 &
    sim=$!
    PROBE_SAMPLES="$dir/probe.samples" python3 deploy/bench/probe.py "$mqtt_port" "$api" 100 "$sim" "$dir/probe.sub" \
        > "$dir/probe.json" 2>"$dir/probe.err" &
    probe=$!
    ( while kill -0 "$boilerd" 2>/dev/null; do status_kb "$boilerd" VmRSS >> "$dir/rss.kb"; sleep 10; done ) &
    sampler=$!
    wait "$sim" || { echo "e2e.sh: boiler-sim failed ($dir/sim.out)" >&2; tail -5 "$dir/sim.out" >&2; exit 1; }
    wall_sim="$(python3 -c "import time; print(time.time() - $wall_start)")"
    wait "$probe" || true
    sent_readings="$(python3 -c 'import json, sys; print([json.loads(l) for l in open(sys.argv[1]) if "\"summary\"" in l][0]["readings_delivered"])' "$dir/truth.jsonl")"
    probe_sent="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["sent"])' "$dir/probe.json")"
    expected=$(( sent_readings + probe_sent ))
    # Until boilerd has accounted for every reading, or nothing moved for 30 s.
    last=-1; still=0
    while :; do
        now_counted="$(counted "$api")"
        [ "$now_counted" -ge "$expected" ] && break
        if [ "$now_counted" = "$last" ]; then still=$((still + 1)); [ $still -ge 60 ] && break; else still=0; fi
        last="$now_counted"
        sleep 0.5
    done
    cpu_end="$(cpu_ticks "$boilerd")"
    accounted=$(( $(counted "$api") - probe_sent ))
    peak_kb="$(status_kb "$boilerd" VmHWM)"
    wait "$sub" 2>/dev/null || true
    kill "$probe_sub" 2>/dev/null || true
    kill "$sampler" 2>/dev/null || true

    # The hour that closed under load (see --start below) is written; wait until nothing is pending.
    for _ in $(seq 1 120); do
        [ "$(metric_sum "$api" boiler_snapshots_pending)" = 0 ] && break
        sleep 0.5
    done
    db() { psql "$BOILER_TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -Atc "$1"; }
    delay="$(db "SELECT coalesce(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d))::text, '-') || ' / ' || coalesce(round(max(d))::text, '-') || ' (' || count(*) || ')'
                 FROM (SELECT extract(epoch FROM written_at - closed_at) * 1000 AS d FROM hourly_snapshots WHERE boiler_id <> 'probe') x")"

    curl -sf "$api/v1/stream" > "$dir/stream.json" || true
    kill -TERM "$boilerd" 2>/dev/null || true
    wait "$boilerd" 2>/dev/null || true
    rm -f "$work/boilerd.pid"
    deploy/local/services.sh stop >/dev/null 2>&1 || true

    python3 - "$dir" "$name" "$boilers" "$batch" "$accel" "$sent_readings" "$accounted" "$wall_sim" "$cpu_start" "$cpu_end" \
        "$ticks_per_second" "$messages" "$peak_kb" "$delay" <<'PY'
import json, sys
(dir, name, boilers, batch, accel, sent, accounted, wall, cpu0, cpu1, hz, messages, peak_kb, delay) = sys.argv[1:]
sent, accounted, wall, batch, messages = int(sent), int(accounted), float(wall), int(batch), int(messages)
cpu = (int(cpu1) - int(cpu0)) / int(hz)
msgs = sent / batch
user, system = open(f"{dir}/sub.time").read().split()[-2:]
sub_cpu = float(user) + float(system)
# mosquitto_sub -C N counts what it printed; -T filters the probe out before printing.
sub_got = messages
try:
    err = open(f"{dir}/sub.err").read()
    if "Timed out" in err:
        sub_got = "timed out"
except FileNotFoundError:
    pass
rss = [int(l) for l in open(f"{dir}/rss.kb") if l.strip()]
warm = rss[min(6, len(rss) - 1)] / 1024 if rss else 0
end = rss[-1] / 1024 if rss else 0
probe = json.load(open(f"{dir}/probe.json"))
fmt = lambda p: f"{p['p50_us']:.0f} / {p['p99_us']:.0f}" if p else "-"
worker_per_msg = cpu / msgs * 1e6
sub_per_msg = sub_cpu / messages * 1e6
print(f"| {name} | {boilers} | {batch} | {accel} | {sent:,} | {accounted:,} ({'all' if accounted == sent else 'MISSING ' + str(sent - accounted)}) "
      f"| {sent / wall:,.0f} | {worker_per_msg:.2f} | {cpu / sent * 1e6:.2f} | {sub_per_msg:.2f} ({sub_got}) | {worker_per_msg / sub_per_msg:.2f} "
      f"| {int(peak_kb) / 1024:.0f} | {warm:.0f} → {end:.0f} | {fmt(probe['stream'])} | {fmt(probe['mosquitto_sub'])} "
      f"| {probe['sent']}/{probe['stored']}/{probe['delivered']} | {delay} |")
PY
done
echo
echo "work folder (logs, truth, probe samples): $work"
