#!/usr/bin/env bash
# Runs Confer on this machine: installs what it needs, builds, starts a local
# confer-server on the embedded SQLite store, signs in to a demo account, and
# has two `confer` clients meet in a demo meeting (synthetic media and chat).
# The server keeps running afterwards so you can join with your own
# `confer join`; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "run: building (the first build takes a few minutes)"
cargo build --quiet -p confer-server -p confer-cli --bins
BIN=target/debug
DATA=${CONFER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/confer-demo}
mkdir -p "$DATA"
export CONFER_CONFIG_DIR="$DATA/cli"

# Ports 0: the OS picks free ones, so the demo never collides with anything.
coproc SERVER { exec "$BIN/confer-server" --data-dir "$DATA/server" --http-port 0 --quic-port 0 --tls-port 0 2>"$DATA/server.log"; }
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
if ! read -r -t 60 ready <&"${SERVER[0]}"; then
  echo "run: confer-server did not start; see $DATA/server.log" >&2
  exit 1
fi
echo "$ready"
api=$(sed -n 's/.* api=\([^ ]*\).*/\1/p' <<<"$ready")
ca=$(sed -n 's/.* ca=\([^ ]*\).*/\1/p' <<<"$ready")
CONFER=("$BIN/confer" --server "$api" --ca "$ca")

# A demo account whose password is made once and kept (mode 0600) beside the data.
if [ ! -s "$DATA/demo-password" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DATA/demo-password")
fi
"${CONFER[@]}" account create --email demo@confer.local --name "Demo Host" --password-stdin <"$DATA/demo-password" >/dev/null 2>&1 || true
"${CONFER[@]}" login --email demo@confer.local --password-stdin <"$DATA/demo-password"
meeting=$("${CONFER[@]}" meeting create --topic "Confer demo")
echo "run: meeting $meeting created; two clients are joining for 10 seconds"

"${CONFER[@]}" join "$meeting" --name "Demo Host" --send-media synthetic --chat "Welcome to Confer" --wait-for 2 --for 10s --stats "$DATA/host-stats.json" &
host=$!
CONFER_CONFIG_DIR="$DATA/guest" "${CONFER[@]}" join "$meeting" --name "Guest" --send-media synthetic --chat "Hi, glad to be here" --wait-for 2 --for 10s --stats "$DATA/guest-stats.json"
wait "$host"
echo
echo "run: the clients met. What each one saw is in $DATA/host-stats.json and $DATA/guest-stats.json."
echo "run: the server is still running. Join from another terminal with:"
echo "  $BIN/confer join $meeting --name YOU --server $api --ca $ca"
echo "run: press Ctrl-C to stop."
wait "$SERVER_PID"
