#!/usr/bin/env bash
# A headless Chromium screenshot of the dashboard: deploy/local/screenshot.sh URL OUT.png [WAIT_MS]
# (installs chromium with apt-get when missing). Waits WAIT_MS (default 6000) for the page to fetch and draw.
set -euo pipefail
url="${1:?usage: screenshot.sh URL OUT.png [WAIT_MS]}"; out="${2:?usage: screenshot.sh URL OUT.png [WAIT_MS]}"; wait="${3:-6000}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null
    browser="$(command -v chromium)"
fi
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000 \
    --virtual-time-budget="$wait" --screenshot="$out" "$url" 2>/dev/null
test -s "$out" && echo "screenshot: $out"
