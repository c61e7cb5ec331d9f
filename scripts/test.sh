#!/usr/bin/env bash
# The one command that runs every test: the UI's type check and unit tests,
# formatting, clippy with warnings as errors, the dependency rules, and every
# Rust test (unit, integration, whole-system and the real desktop app under
# Xvfb). CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# One build from clean: incremental state would only add gigabytes of disk.
export CARGO_INCREMENTAL=0
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

step "API schema conformance (schemathesis against /openapi.json)"
bash scripts/schemathesis.sh

step "tests"
# The e2e tests use the real Secret Service: gnome-keyring on a private D-Bus
# session (the password only unlocks this throwaway keyring). Xvfb gives the
# desktop-app and screen-capture tests a screen. With both present those tests
# must run, not skip.
export CONFER_REQUIRE_KEYRING=1
export CONFER_REQUIRE_SSO=1
export CONFER_REQUIRE_DBUS=1
run_tests() {
  dbus-run-session -- sh -c 'printf ci-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' sh "$@"
}
if command -v xvfb-run >/dev/null; then
  export CONFER_REQUIRE_DESKTOP_SMOKE=1
  export CONFER_REQUIRE_DESKTOP_VIDEO=1
  run_tests xvfb-run -a -s "-screen 0 1280x800x24" cargo nextest run --workspace --locked --no-fail-fast
else
  run_tests cargo nextest run --workspace --locked --no-fail-fast
fi

step "server tests on PostgreSQL"
eval "$(bash scripts/start-postgres.sh)"
trap 'bash scripts/start-postgres.sh --stop >/dev/null 2>&1 || true' EXIT
# Filter the workspace run (rather than -p) so the artifacts built above are reused.
cargo nextest run --workspace --locked --no-fail-fast -E "package(confer-server)"

step "installer: the Linux .deb (release build)"
bash scripts/test-build-deb.sh
bash scripts/build-deb.sh
step "done"
