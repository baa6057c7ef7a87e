# Shared by the bench scripts that run a release boilerd (source it): a free loopback port for its HTTP API, and
# waiting until boilerd reports ready.

# Prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready API_URL SCRIPT_NAME LOG: waits up to 30 s for boilerd's /readyz; exits the script if it never answers.
wait_ready() {
    for _ in $(seq 1 150); do curl -sf "$1/readyz" >/dev/null && return 0; sleep 0.2; done
    echo "$2: boilerd did not become ready ($3)" >&2
    exit 1
}
