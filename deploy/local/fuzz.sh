#!/usr/bin/env bash
# libFuzzer over every decoder of outside bytes (Tests/Fuzz/DecoderFuzzer.swift): telemetry payloads, setpoint
# commands, hourly snapshots, window checkpoints. Builds the Telemetry sources with the fuzzer and
# AddressSanitizer, runs for SECONDS (default 600) from the committed corpus (Tests/Fuzz/corpus), then merges what
# it found that adds coverage back into that corpus. Exits non-zero on a crash; the crashing input is left in
# .build-fuzz/ (artifact_prefix).
#
#   deploy/local/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
seconds="${1:-600}"
out=.build-fuzz
mkdir -p "$out/found"
# (The linker warns about ASan's local symbols; the warnings go to build.log.)
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name TelemetryFuzz -package-name boilerpipeline \
    Sources/Telemetry/*.swift Tests/Fuzz/DecoderFuzzer.swift -o "$out/decoder-fuzzer" > "$out/build.log" 2>&1 \
    || { grep -E 'error' "$out/build.log" >&2; exit 1; }
status=0
"$out/decoder-fuzzer" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/" -max_len=8192 \
    -timeout=5 -rss_limit_mb=4096 "$out/found" Tests/Fuzz/corpus > "$out/fuzz.log" 2>&1 || status=$?
grep -E '^#[0-9]+ +DONE|stat::|ERROR|SUMMARY|Done' "$out/fuzz.log" || true
if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: the fuzzer found a problem (exit $status); see $out/fuzz.log and $out/crash-*" >&2
    exit "$status"
fi
"$out/decoder-fuzzer" -merge=1 Tests/Fuzz/corpus "$out/found" > "$out/merge.log" 2>&1
echo "corpus: $(ls Tests/Fuzz/corpus | wc -l) inputs in Tests/Fuzz/corpus"
