#!/usr/bin/env bash
# RingStream publish, two revisions side by side (a benchmark, not a test): builds deploy/bench/publish-driver.swift
# with each revision's Sources/RingStream (swiftc -O -wmo), then runs the two alternately RUNS times, so that
# the noise of a shared machine falls on both alike. Prints each run and the medians, in ns per publish (with an
# ID: single, in batches of 10, announced; single without an ID).
#
#   deploy/bench/publish-ab.sh OLD_REVISION [NEW_REVISION (default: the work tree)] [RUNS (default 10)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
old="${1:?usage: publish-ab.sh OLD_REVISION [NEW_REVISION] [RUNS]}"
new="${2:-}"
runs="${3:-10}"
work="$(mktemp -d /tmp/publish-ab-XXXXXX)"
trap 'rm -rf "$work"' EXIT

build() {  # build NAME REVISION(empty: work tree)
    mkdir -p "$work/$1"
    if [ -n "$2" ]; then
        git archive "$2" Sources/RingStream | tar -x -C "$work/$1"
    else
        cp -r Sources "$work/$1/" 2>/dev/null || true
    fi
    cp deploy/bench/publish-driver.swift "$work/$1/main.swift"  # top-level code must be in main.swift
    swiftc -O -wmo -enable-experimental-feature BuiltinModule -module-name Driver -o "$work/$1/driver" "$work/$1"/Sources/RingStream/*.swift "$work/$1/main.swift"
}
build old "$old"
build new "$new"

printf '| run | old single | new single | old batch of 10 | new batch of 10 | old announced | new announced | old without ID | new without ID |\n|---|---|---|---|---|---|---|---|---|\n'
for run in $(seq 1 "$runs"); do
    read -r old_single old_batch old_announced old_bare < <("$work/old/driver")
    read -r new_single new_batch new_announced new_bare < <("$work/new/driver")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$run" "$old_single" "$new_single" "$old_batch" "$new_batch" "$old_announced" "$new_announced" "$old_bare" "$new_bare"
    echo "$old_single $new_single $old_batch $new_batch $old_announced $new_announced $old_bare $new_bare" >> "$work/all"
done
python3 - "$work/all" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
cols = list(zip(*rows))
m = [statistics.median(c) for c in cols]
print("| median | " + " | ".join(f"{x:.0f}" for x in m) + " |")
print(f"\nnew/old, medians: single {m[1] / m[0]:.2f}, batch of 10 {m[3] / m[2]:.2f}, announced {m[5] / m[4]:.2f}, without ID {m[7] / m[6]:.2f}")
PY
