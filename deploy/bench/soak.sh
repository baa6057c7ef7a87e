#!/usr/bin/env bash
# Soak (issue 10; a separate command, not part of the test run): 1,000 boilers at 10 ms in batches of 10
# (100,000 readings/s) in real time for MINUTES (default 30), through deploy/bench/e2e.sh. Then it checks, and
# exits non-zero when one fails:
#   - every reading the simulator sent is accounted for by boilerd (e2e.sh's "boilerd accounted" column);
#   - boilerd's RSS, sampled every 10 s, stays within 10% after a 2-minute warm-up. boilerd runs with
#     `stream-prefault` (BOILERD_STREAM_PREFAULT=true unless set): its streams' preallocated storage is resident
#     from the start, so first writes to it do not look like growth. (Without it, with a stream message per MQTT
#     message, the 256-MiB ring takes about 80 s to fill at this rate and the dedup table about 7 minutes.)
#   - the stream's subject table holds the 1,000 boilers and the probe, and its dedup table is within its bound.
#
#   deploy/bench/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
minutes="${1:-30}"
export BOILERD_STREAM_PREFAULT="${BOILERD_STREAM_PREFAULT:-true}"
out="$(deploy/bench/e2e.sh "soak 1000 10 10 ${minutes}m 1 1")"
echo "$out"
work="$(echo "$out" | sed -n 's/^work folder (logs, truth, probe samples): //p')"
accounted=0
echo "$out" | grep '^| soak |' | grep -q '(all)' && accounted=1
[ $accounted = 1 ] || echo "FAILED: boilerd did not account for every reading the simulator sent"
python3 - "$work/soak" <<'PY'
import json, sys
folder = sys.argv[1]
failures = []
rss = [int(line) / 1024 for line in open(f"{folder}/rss.kb") if line.strip()]
after = rss[12:]  # samples every 10 s: from 2 minutes on
if len(after) < 2:
    failures.append(f"too few RSS samples after warm-up ({len(after)})")
else:
    low, high = min(after), max(after)
    print(f"RSS after warm-up: {low:.0f} to {high:.0f} MB over {len(after)} samples ({(high / low - 1) * 100:.1f}% apart)")
    if high > low * 1.10:
        failures.append(f"RSS grew beyond 10% after warm-up: {low:.0f} → {high:.0f} MB")
stream = json.load(open(f"{folder}/stream.json"))
print(f"stream: {stream['subjects_known']} subjects known; {stream['duplicate_ids']} of {stream['max_duplicate_ids']} dedup IDs; "
      f"{stream['duplicate_ids_forgotten_early']} forgotten before their window; {stream['messages']} of {stream['max_messages']} messages")
if stream["subjects_known"] != 1001:
    failures.append(f"subjects known: {stream['subjects_known']}, expected 1,000 boilers and the probe")
if stream["duplicate_ids"] > stream["max_duplicate_ids"]:
    failures.append("dedup table beyond its bound")
if stream["messages"] > stream["max_messages"]:
    failures.append("ring beyond its bound")
for failure in failures:
    print("FAILED:", failure)
sys.exit(1 if failures else 0)
PY
[ $accounted = 1 ]
