#!/usr/bin/env bash
# Runs Confer on this machine: installs what it needs, builds, starts a local
# confer-server on the embedded SQLite store, signs in to a demo account, has
# two `confer` clients meet briefly in a demo meeting (synthetic media and
# chat), then opens the desktop app signed in to the demo account, ready to
# start a meeting. Closing the app stops the server and ends the script.
#
# Signing the app in without typing: this script logs in with the CLI into a
# private temporary directory (mode 0700), which leaves the CLI's
# session.json (mode 0600, an access token), and starts the app with
# CONFER_SIGN_IN_FILE naming it. The app reads that file once, deletes it,
# and keeps the token in the OS keyring (or in memory when there is none);
# see src-tauri/src/sign_in_handoff.rs. The script removes the directory on
# exit too, so no token outlives the run on disk. The demo account's password
# is kept in a 0600 file in the data directory so that later runs can sign in.
#
# Without a display (no DISPLAY or WAYLAND_DISPLAY) it prints the command that
# opens the app and keeps the server running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
echo "run: building (the first build takes a few minutes)"
if ! out=$(npm --prefix ui run --silent build 2>&1); then
  echo "$out" >&2
  exit 1
fi
# The app embeds ui/dist at compile time, so it is built after the UI.
cargo build --quiet -p confer-server -p confer-cli -p confer-desktop --bins
BIN=$PWD/target/debug
DATA=${CONFER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/confer-demo}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
export CONFER_CONFIG_DIR="$DATA/cli"
HANDOFF=$(mktemp -d)

# Ports 0: the OS picks free ones, so the demo never collides with anything.
coproc SERVER { exec "$BIN/confer-server" --data-dir "$DATA/server" --http-port 0 --quic-port 0 --tls-port 0 2>"$DATA/server.log"; }
SERVER_PID_SAVED=$SERVER_PID
cleanup() {
  rm -rf "$HANDOFF"
  kill "$SERVER_PID_SAVED" 2>/dev/null || true
  wait "$SERVER_PID_SAVED" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
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
echo "run: meeting $meeting created; two clients are joining for 5 seconds"

"${CONFER[@]}" join "$meeting" --name "Demo Host" --send-media synthetic --chat "Welcome to Confer" --wait-for 2 --for 5s --stats "$DATA/host-stats.json" &
host=$!
CONFER_CONFIG_DIR="$DATA/guest" "${CONFER[@]}" join "$meeting" --name "Guest" --send-media synthetic --chat "Hi, glad to be here" --wait-for 2 --for 5s --stats "$DATA/guest-stats.json"
wait "$host"
echo "run: the clients met. What each one saw is in $DATA/host-stats.json and $DATA/guest-stats.json."

APP_ENV=(CONFER_SERVER_URL="$api" CONFER_CA_FILE="$ca")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the app is not opened."
  echo "run: on a machine with a screen, open it with:"
  echo "  ${APP_ENV[*]} $BIN/confer-desktop"
  echo "run: and sign in as demo@confer.local with the password in $DATA/demo-password"
  echo "run: the server is running. Join from another terminal with:"
  echo "  $BIN/confer join $meeting --name YOU --server $api --ca $ca"
  echo "run: press Ctrl-C to stop."
  wait "$SERVER_PID_SAVED"
  exit 0
fi

# The app's one-shot sign-in: a CLI login into the private directory.
CONFER_CONFIG_DIR="$HANDOFF" "${CONFER[@]}" login --email demo@confer.local --password-stdin <"$DATA/demo-password" >/dev/null
echo "run: opening the Confer app, signed in as demo@confer.local. Close it to stop the server."
echo "run: others can join from a terminal with:"
echo "  $BIN/confer join MEETING --name YOU --server $api --ca $ca"
env "${APP_ENV[@]}" CONFER_SIGN_IN_FILE="$HANDOFF/session.json" "$BIN/confer-desktop" || true
echo "run: the app closed; stopping the server."
