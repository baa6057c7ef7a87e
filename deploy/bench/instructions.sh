#!/usr/bin/env bash
# Instructions per RingStream operation, two revisions side by side (a benchmark, not a test): builds
# deploy/bench/instructions-driver.swift against each revision's Sources/RingStream, compiled as its own module as
# SwiftPM does (swiftc -O -wmo), and counts the instructions of two runs of each operation with valgrind's lackey.
# (run with 2N) - (run with N), divided by N, is the cost of one operation without the warm-up's. Instruction counts
# do not move with the other tenants of a shared machine, which time does; they do not see cache misses.
#
#   deploy/bench/instructions.sh OLD_REVISION [NEW_REVISION (default: the work tree)] [OPERATIONS]
#
# OPERATIONS defaults to "read-by-name read-by-handle publish publish-batch fetch-literal"; publish-without-id, publish-series,
# sequence-by-name and sequence-by-handle (lastSequence) are the others. The stream's seeds are random, so a
# count can differ between runs (hash-table probes): by 2% at most for single publishes, by up to a fifth for
# publish-batch and publish-series, which need several runs per build to compare.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
old="${1:?usage: instructions.sh OLD_REVISION [NEW_REVISION] [OPERATIONS]}"
new="${2:-}"
operations="${3:-read-by-name read-by-handle publish publish-batch fetch-literal}"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
work="$(mktemp -d /tmp/instructions-XXXXXX)"
trap 'rm -rf "$work"' EXIT

build() {  # build NAME REVISION(empty: work tree)
    mkdir -p "$work/$1/src"
    if [ -n "$2" ]; then
        git archive "$2" Sources/RingStream | tar -x -C "$work/$1/src"
    else
        cp -r Sources "$work/$1/src/"
    fi
    (cd "$work/$1" && swiftc -O -wmo -parse-as-library -enable-experimental-feature BuiltinModule -module-name RingStream \
        -emit-module -emit-module-path RingStream.swiftmodule -emit-library -static -o libRingStream.a src/Sources/RingStream/*.swift)
    swiftc -O -I "$work/$1" -L "$work/$1" -lRingStream -o "$work/$1/driver" deploy/bench/instructions-driver.swift
}
build old "$old"
build new "$new"

instructions() {  # instructions DRIVER OPERATION N
    valgrind --tool=lackey --basic-counts=yes "$1" "$2" "$3" 2>&1 >/dev/null | awk '/guest instrs:/ {gsub(",", "", $NF); print $NF}'
}
per_operation() {  # per_operation DRIVER OPERATION
    local n=40000 one two
    # A consumer that reads the whole ring per fetch costs about a million instructions a message.
    [ "$2" = fetch-literal ] && n=1000
    one="$(instructions "$1" "$2" "$n")"
    two="$(instructions "$1" "$2" "$((2 * n))")"
    echo $(( (two - one) / n ))
}

printf '| operation | old instructions | new instructions | new/old |\n|---|---|---|---|\n'
for operation in $operations; do
    o="$(per_operation "$work/old/driver" "$operation")"
    n="$(per_operation "$work/new/driver" "$operation")"
    printf '| %s | %s | %s | %s |\n' "$operation" "$o" "$n" "$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", n / o}')"
done
