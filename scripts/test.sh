#!/usr/bin/env bash
# The one command that runs every test: the UI's type check and unit tests,
# formatting, clippy with warnings as errors, the dependency rules, and every
# Rust test (unit, integration, whole-system and the real desktop app under
# Xvfb). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "system and npm packages"
bash scripts/install-deps.sh

step "UI: type check, unit tests, build"
(cd ui && npm run --silent typecheck && npm run --silent test && npm run --silent build)

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency rules"
bash scripts/check-deps.sh

step "build binaries used by the whole-system tests"
cargo build --workspace --bins --locked

step "tests"
# Xvfb gives the desktop-app tests a screen; without it they skip and say so.
if command -v xvfb-run >/dev/null; then
  # With a screen and tauri-driver installed, the real-app tests must run, not skip.
  export CONFER_REQUIRE_DESKTOP_SMOKE=1
  xvfb-run -a -s "-screen 0 1280x800x24" cargo nextest run --workspace --locked --no-fail-fast
else
  cargo nextest run --workspace --locked --no-fail-fast
fi
step "done"
