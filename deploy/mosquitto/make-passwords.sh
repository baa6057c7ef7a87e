#!/usr/bin/env bash
# Creates mosquitto's password file for boilerd and a list of boilers, with a fresh random password for each.
#
#   deploy/mosquitto/make-passwords.sh BOILER_IDS_FILE OUT_DIR
#
# BOILER_IDS_FILE: one boiler id per line ([A-Za-z0-9_-]{1,64}). Writes, readable by the owner only:
#   OUT_DIR/boilerpipeline.passwd   hashed, for mosquitto's password_file
#   OUT_DIR/credentials.txt         user:password in clear, to hand to each boiler (and boilerd); keep it safe
set -euo pipefail
ids_file="${1:?usage: make-passwords.sh BOILER_IDS_FILE OUT_DIR}"
out="${2:?usage: make-passwords.sh BOILER_IDS_FILE OUT_DIR}"
command -v mosquitto_passwd >/dev/null || { echo "make-passwords.sh: mosquitto_passwd not found (apt-get install mosquitto)" >&2; exit 1; }
mkdir -p "$out"
umask 077
credentials="$out/credentials.txt"
: > "$credentials"
new_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
echo "boilerd:$(new_password)" >> "$credentials"
while IFS= read -r id || [ -n "$id" ]; do
    id="${id%%#*}"; id="${id//[[:space:]]/}"
    [ -z "$id" ] && continue
    if ! [[ "$id" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then echo "make-passwords.sh: '$id' is not a boiler id ([A-Za-z0-9_-]{1,64})" >&2; exit 1; fi
    if [ "$id" = "boilerd" ]; then echo "make-passwords.sh: 'boilerd' is boilerd's own user, not a boiler id" >&2; exit 1; fi
    echo "$id:$(new_password)" >> "$credentials"
done < "$ids_file"
cp "$credentials" "$out/boilerpipeline.passwd"
mosquitto_passwd -U "$out/boilerpipeline.passwd"
# mosquitto started as root drops to its own user, which must read the (hashed) password file.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then chown mosquitto "$out/boilerpipeline.passwd"; fi
echo "make-passwords.sh: $(($(wc -l < "$credentials") - 1)) boilers and boilerd in $out/boilerpipeline.passwd (credentials in $credentials)" >&2
