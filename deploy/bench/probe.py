#!/usr/bin/env python3
"""Latency probe for deploy/bench/e2e.sh (a benchmark, not a test).

Publishes single-reading payloads for boiler `probe` at RATE messages/s, while process PID lives, through `mosquitto_pub -l`
(one line, one message, QoS 1), each carrying its send time (CLOCK_REALTIME, µs: a seq is at most 2^53 - 1) as
`seq`. While it runs it
reads the probe's readings back from boilerd's stream API five times a second (`stored_at_ns` is when boilerd
stored the reading; at 2 million readings/s a 2-million-message ring keeps a reading for about a second, and a
poll once a second missed 202 of 2,609 in a run of case c),
and at the end it reads SUB_FILE, the output of `mosquitto_sub -F '%U %p'` on the probe's topic (`%U` is when
mosquitto_sub received the message). It prints one JSON line: how many were sent, stored and delivered, and
the latency percentiles (exact, from every sample) of publish-to-stream (boilerd) beside publish-to-delivery
(mosquitto_sub). With PROBE_SAMPLES=FILE it also writes every sample there.

    probe.py MQTT_PORT API_URL RATE PID SUB_FILE
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

port, api, rate, pid, sub_file = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
topic = "boilers/probe/telemetry"
subject = "boiler.probe.telemetry"

publisher = subprocess.Popen(
    ["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-i", "e2e-probe", "-t", topic, "-l"],
    stdin=subprocess.PIPE, text=True, bufsize=1,
)
sent = {}
stored = {}
next_seq = 1


def poll():
    """Reads the probe's stored readings since the last poll (the ring may evict them later)."""
    global next_seq
    while True:
        url = f"{api}/v1/stream/messages?subject={subject}&from_seq={next_seq}&limit=1000"
        with urllib.request.urlopen(url, timeout=10) as answer:
            page = json.load(answer)
        for message in page["messages"]:
            reading = message.get("reading") or {}
            if "seq" in reading:
                stored[reading["seq"]] = message["stored_at_ns"]
        next_seq = page["next_seq"]
        if len(page["messages"]) < 1000:
            return


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


start = time.monotonic()
period = 1.0 / rate
next_send = start
next_poll = start + 0.2
while True:
    now = time.monotonic()
    if now >= next_poll:
        if not alive(pid):
            break
        poll()
        next_poll = now + 0.2
    if now < next_send:
        time.sleep(min(next_send - now, 0.01))
        continue
    next_send += period
    sent_us = time.time_ns() // 1000
    sent[sent_us] = True
    publisher.stdin.write(
        f'{{"v":1,"boot":"probe","seq":{sent_us},"ts_ms":{sent_us // 1000},"water_c":60.0,'
        f'"room_c":20.0,"outdoor_c":5.0,"burner_pct":0}}\n'
    )
publisher.stdin.close()
publisher.wait()
# boilerd may still be catching up: read until every probe reading is stored (or 120 s pass).
deadline = time.monotonic() + 120
while True:
    poll()
    if len(stored) >= len(sent) or time.monotonic() > deadline:
        break
    time.sleep(0.5)

delivered = {}
try:
    for line in open(sub_file):
        received, _, payload = line.partition(" ")
        try:
            seq = json.loads(payload)["seq"]
        except (ValueError, KeyError):
            continue
        # %U is seconds.nanoseconds; read it as integers so no precision is lost.
        whole, _, fraction = received.partition(".")
        delivered[seq] = int(whole) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])
except FileNotFoundError:
    pass


def percentiles(latencies):
    if not latencies:
        return None
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50_us": pick(0.50) / 1000, "p99_us": pick(0.99) / 1000, "max_us": ordered[-1] / 1000}


# Every sample, for looking at when latency rises (send time µs, stored ns or -, delivered ns or -).
if os.environ.get("PROBE_SAMPLES"):
    with open(os.environ["PROBE_SAMPLES"], "w") as samples:
        for s in sorted(sent):
            samples.write(f"{s} {stored.get(s, '-')} {delivered.get(s, '-')}\n")

print(json.dumps({
    "sent": len(sent),
    "stored": len(stored),
    "delivered": len(delivered),
    "stream": percentiles([stored[s] - s * 1000 for s in stored if s in sent]),
    "mosquitto_sub": percentiles([delivered[s] - s * 1000 for s in delivered if s in sent]),
}))
