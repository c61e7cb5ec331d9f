#!/usr/bin/env bash
# Measures the desktop app showing video, under Xvfb and driven over
# WebDriver (the ignored test tests/desktop_bench.rs; nothing is asserted
# about the numbers). Prints its `bench:` lines: frames painted and dropped
# per tile per second (the UI's window.__conferStats), where the page's
# time went, the CPU each app and WebKit process used over 10 s
# (/proc/<pid>/stat) and their resident memory. Method and results:
# docs/desktop-bench.md. Needs what scripts/install-deps.sh installs (Xvfb,
# tauri-driver, WebKitWebDriver).
#
# Usage: scripts/bench-desktop.sh [--release] [--synthetic|--baseline] [--decode page|shell]
#                                 [--draw auto|2d|none] [--tiles N] [--no-batch]
#   (default)    a 10-person meeting: the app and nine `confer` CLI
#                participants sending the moving 640x360 test pattern.
#   --synthetic  no meeting: the app (built with the `bench-frames`
#                feature) pushes N synthetic moving 640x360 tiles at 30 fps
#                (default 9) plus a small self view down the same channel.
#   --baseline   no video: the app's memory at rest (signed in, home
#                screen), then WebKitGTK's own MiniBrowser on about:blank,
#                composited in software and with OpenGL: the memory floor
#                of any WebKitGTK app on this machine.
#   --decode     where remote video is decoded: in the page with WebCodecs
#                from H.264 (page, the default and shipped path), or in the
#                app with raw I420 pictures sent to the page (shell).
#   --release    the app and the senders' `confer` built in release; the
#                test driver and the server stay debug builds.
#   --draw       how the page draws raw pictures: WebGL if available (auto),
#                the 2D canvas path (2d), or not at all (none: IPC cost only;
#                with --decode page, H.264 is neither decoded nor drawn).
#   --no-batch   synthetic pictures one per channel message (no batching).
set -euo pipefail
cd "$(dirname "$0")/.."

release=0
mode=meeting
draw=auto
tiles=9
batch=1
decode=page
while [ $# -gt 0 ]; do
  case "$1" in
    --release) release=1 ;;
    --synthetic) mode=synthetic ;;
    --baseline) mode=baseline ;;
    --draw) draw="$2"; shift ;;
    --decode) decode="$2"; shift ;;
    --tiles) tiles="$2"; shift ;;
    --no-batch) batch=0 ;;
    *) echo "usage: $0 [--release] [--synthetic|--baseline] [--decode page|shell] [--draw auto|2d|none] [--tiles N] [--no-batch]" >&2; exit 2 ;;
  esac
  shift
done

npm --prefix ui run --silent build >/dev/null
# The bench command exists only with the bench-frames feature; a build
# without it is a shipped build.
features=bench-frames
export CONFER_BENCH_MODE=$mode CONFER_BENCH_DRAW=$draw CONFER_BENCH_TILES=$tiles CONFER_BENCH_BATCH=$batch CONFER_BENCH_DECODE=$decode
if [ "$release" = 1 ]; then
  # As `tauri build` builds it (embedded assets, no dev server), plus the
  # bench feature; the senders in release too.
  cargo build --quiet --release -p confer-desktop --features "$features,tauri/custom-protocol"
  cargo build --quiet --release -p confer-cli --bins
  export CONFER_BENCH_APP="$PWD/target/release/confer-desktop" CONFER_BENCH_BIN_DIR="$PWD/target/release"
fi
cargo build --quiet -p confer-server -p confer-cli --bins
cargo test --quiet -p confer-desktop --features "$features" --test desktop_bench -- --ignored --nocapture 2>&1 | grep '^bench:'
