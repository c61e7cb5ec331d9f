#!/usr/bin/env bash
# Measures the desktop app in a 10-person meeting: the real app under Xvfb
# (driven over WebDriver) and nine `confer` CLI participants sending the
# moving 640x360 test pattern. Prints frames painted per remote tile per
# second (the UI's window.__conferStats), the CPU the app and its WebKit
# processes used over 10 s (/proc/<pid>/stat) and their resident memory.
# The measurement is the ignored test tests/desktop_bench.rs; nothing is
# asserted about the numbers. Needs what scripts/install-deps.sh installs
# (Xvfb, tauri-driver, WebKitWebDriver).
set -euo pipefail
cd "$(dirname "$0")/.."

npm --prefix ui run --silent build >/dev/null
cargo test --quiet -p confer-desktop --test desktop_bench -- --ignored --nocapture 2>&1 | grep '^bench:'
