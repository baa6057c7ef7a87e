#!/usr/bin/env bash
# Throwaway services for tests and the demo: a mosquitto broker and a PostgreSQL cluster on free loopback ports.
#
#   deploy/local/services.sh start            start both (idempotent), print the env
#   deploy/local/services.sh env              print `export` lines for the running services
#   deploy/local/services.sh stop             stop both and delete their state
#   deploy/local/services.sh stop-mqtt|start-mqtt          stop/start the broker only (same port, state kept)
#   deploy/local/services.sh stop-postgres|start-postgres  stop/start PostgreSQL only (same port, data kept)
#
# State lives in $BOILER_SERVICES_DIR (default /tmp/boilerpipeline-services). The broker lets 1,000 QoS 1/2
# messages be in flight to each client, or $BOILER_MQTT_MAX_INFLIGHT (mosquitto's own default is 20). Installs mosquitto,
# mosquitto-clients and libmosquitto-dev with apt-get when missing. PostgreSQL refuses to run as root, so
# when this runs as root the cluster runs as the `postgres` user.
set -euo pipefail

STATE="${BOILER_SERVICES_DIR:-/tmp/boilerpipeline-services}"
SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

log() { echo "services: $*" >&2; }

install_packages() {
    local missing=()
    command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
    command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    dpkg -s libmosquitto-dev >/dev/null 2>&1 || missing+=(libmosquitto-dev)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the TLS test makes its CA with it
    command -v curl >/dev/null 2>&1 || missing+=(curl)         # the boilerd process tests ask its API
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

mosquitto_bin() { command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_mqtt() {
    mkdir -p "$STATE/mosquitto"
    [ -f "$STATE/mqtt_port" ] || free_port > "$STATE/mqtt_port"
    local port; port="$(cat "$STATE/mqtt_port")"
    if alive "$STATE/mosquitto/pid"; then return 0; fi
    cat > "$STATE/mosquitto/mosquitto.conf" <<CONF
# Throwaway broker for BoilerPipeline tests: loopback only, anonymous, persistent sessions survive restarts.
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $STATE/mosquitto/
autosave_interval 1
max_queued_messages 1000000
max_inflight_messages ${BOILER_MQTT_MAX_INFLIGHT:-1000}
pid_file $STATE/mosquitto/pid
log_dest file $STATE/mosquitto/mosquitto.log
user $(id -un)
CONF
    "$(mosquitto_bin)" -c "$STATE/mosquitto/mosquitto.conf" -d </dev/null >/dev/null 2>>"$STATE/mosquitto/stderr.log"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    log "mosquitto did not start; see $STATE/mosquitto/mosquitto.log"
    return 1
}

stop_mqtt() {
    if alive "$STATE/mosquitto/pid"; then
        local pid; pid="$(cat "$STATE/mosquitto/pid")"
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/mosquitto/pid"
}

start_postgres() {
    mkdir -p "$STATE"
    [ -f "$STATE/pg_port" ] || free_port > "$STATE/pg_port"
    local port; port="$(cat "$STATE/pg_port")"
    local pg="$STATE/postgres"
    if [ ! -d "$pg/data" ]; then
        install -d -m 700 "$pg"
        [ "$(id -u)" -eq 0 ] && chown postgres "$pg"
        as_postgres "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log" >&2; return 1; }
    fi
    if as_postgres "$PG_BIN/pg_ctl" -D "$pg/data" status >/dev/null 2>&1; then return 0; fi
    as_postgres "$PG_BIN/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 60 \
        -o "-p $port -k $pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    if [ ! -f "$pg/.roles" ]; then
        as_postgres "$PG_BIN/psql" -h "$pg" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q <<'SQL'
CREATE ROLE boiler LOGIN PASSWORD 'boiler' CREATEDB;
CREATE DATABASE boiler OWNER boiler;
SQL
        touch "$pg/.roles"
    fi
}

stop_postgres() {
    local pg="$STATE/postgres"
    [ -d "$pg/data" ] || return 0
    if as_postgres "$PG_BIN/pg_ctl" -D "$pg/data" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$pg/data" -m fast -w -t 60 stop >/dev/null
    fi
}

print_env() {
    [ -f "$STATE/mqtt_port" ] && [ -f "$STATE/pg_port" ] || { log "not started"; return 1; }
    echo "export BOILER_TEST_MQTT_URL=mqtt://127.0.0.1:$(cat "$STATE/mqtt_port")"
    echo "export BOILER_TEST_DATABASE_URL=postgres://boiler:boiler@127.0.0.1:$(cat "$STATE/pg_port")/boiler"
    echo "export BOILER_TEST_SERVICES=$SELF"
}

case "${1:-}" in
    start)
        install_packages
        start_mqtt
        start_postgres
        print_env
        ;;
    env) print_env ;;
    stop)
        stop_mqtt
        stop_postgres
        rm -rf "$STATE"
        ;;
    start-mqtt) start_mqtt ;;
    stop-mqtt) stop_mqtt ;;
    start-postgres) start_postgres ;;
    stop-postgres) stop_postgres ;;
    *)
        echo "usage: $0 start|stop|env|start-mqtt|stop-mqtt|start-postgres|stop-postgres" >&2
        exit 2
        ;;
esac
