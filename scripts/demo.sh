#!/usr/bin/env bash
# Build the package and serve the demo page on http://127.0.0.1:${PORT:-8080}/ (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --demo
bash scripts/build-pkg.sh
PORT=${PORT:-8080}
echo "demo: open http://127.0.0.1:$PORT/"
# Python's http.server sends .wasm as application/wasm, so the browser compiles it while streaming.
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory www
