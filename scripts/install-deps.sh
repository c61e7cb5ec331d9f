#!/usr/bin/env bash
# Installs what building, testing and running Confer needs on Debian/Ubuntu:
# system packages (see ../shared/ENVIRONMENT.md for why each is here), the
# Rust toolchain pinned in rust-toolchain.toml (through rustup, if present),
# cargo-nextest, and the UI's npm packages. Safe to run again: it installs
# only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(build-essential pkg-config ca-certificates cmake libclang-dev nasm
  libwebkit2gtk-4.1-dev libasound2-dev libpipewire-0.3-dev libwayland-dev libgbm-dev libdbus-1-dev libwebrtc-audio-processing-dev)
# Test packages: a screen (Xvfb) and WebDriver for the real app, a private
# PulseAudio for the microphone tests, ffmpeg as an independent decoder,
# gnome-keyring on a D-Bus session for the real Secret Service, PostgreSQL
# for the store tests, Python for an independent HMAC check of webhooks.
TEST_PKGS=(xvfb xauth x11-xserver-utils x11-utils webkit2gtk-driver openssl curl ffmpeg pulseaudio pulseaudio-utils
  gnome-keyring dbus-daemon dbus-bin postgresql python3 python3-venv)
# The colour emoji font shows reactions in the app (and its screenshots).
RUN_PKGS=(nodejs npm fonts-noto-color-emoji)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || missing+=("${RUN_PKGS[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Device keys are bound to the machine id (confer-e2e); minimal systems lack one.
[ -s /etc/machine-id ] || sudo_if_needed dbus-uuidgen --ensure=/etc/machine-id

if ! command -v cargo >/dev/null; then
  echo "install-deps: no Rust toolchain found. Install rustup (Debian: apt-get install rustup) and run this again." >&2
  exit 1
fi
command -v rustup >/dev/null && rustup show active-toolchain >/dev/null 2>&1 || true
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "install-deps: installing cargo-nextest"
  cargo install cargo-nextest --locked --quiet
fi
# Drives the real desktop app in the end-to-end tests (WebDriver over WebKitWebDriver).
if ! command -v tauri-driver >/dev/null; then
  echo "install-deps: installing tauri-driver"
  cargo install tauri-driver --locked --quiet
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "install-deps: installing the UI's npm packages"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
# The real OpenID provider the SSO tests sign in against (npm `oidc-provider`).
if [ ! -d tests/oidc-provider/node_modules ] || [ tests/oidc-provider/package-lock.json -nt tests/oidc-provider/node_modules/.package-lock.json ]; then
  echo "install-deps: installing the test OpenID provider's npm packages"
  (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
fi
