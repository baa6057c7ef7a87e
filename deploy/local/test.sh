#!/usr/bin/env bash
# The one test command: starts throwaway mosquitto and PostgreSQL, runs `swift test` against them, stops them,
# and exits with the tests' status. Extra arguments go to `swift test` (e.g. `--filter RingStreamTests`).
#
# With REQUIRE_SERVICES=1 (as in CI) a test that needs a service fails when it cannot reach it, instead of
# being skipped.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

services=deploy/local/services.sh
export BOILER_SERVICES_DIR="${BOILER_SERVICES_DIR:-/tmp/boilerpipeline-services-test-$$}"
trap '"$services" stop >/dev/null 2>&1 || true' EXIT

# The schema-example test cross-checks the decoder with an independent validator (python-jsonschema).
if ! python3 -c "import jsonschema, referencing, yaml" >/dev/null 2>&1; then
    python3 -m pip install --quiet jsonschema pyyaml >&2 || echo "test.sh: could not install python jsonschema" >&2
fi

if ! env_lines="$("$services" start)"; then
    echo "test.sh: the services did not start" >&2
    [ "${REQUIRE_SERVICES:-0}" = "1" ] && exit 1
    env_lines=""
fi
eval "$env_lines"
echo "test.sh: MQTT ${BOILER_TEST_MQTT_URL:-unavailable}, PostgreSQL ${BOILER_TEST_DATABASE_URL:-unavailable}" >&2

# The end-to-end tests run the simulator and boilerd as child processes: build them first.
for product in boiler-sim boilerd; do swift build --product "$product" >&2 || echo "test.sh: could not build $product" >&2; done
swift test "$@"
status=$?
echo "test.sh: swift test exited with status $status" >&2
exit $status
