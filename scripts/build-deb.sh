#!/usr/bin/env bash
# Builds the Linux installer (the release app packed as a .deb) with the Tauri
# CLI pinned in ui/package.json, then checks the package itself rather than
# trusting the build: it must hold the app binary, a desktop entry that
# registers the confer:// scheme (invitation deep links, `confer://join/ID`)
# and passes the link on (%u), and the app's icon; the extracted binary must
# resolve every shared library on this system; and the installed size must
# stay under the 25 MB budget (issue #7). Prints one summary line:
#
#   deb: PATH size=BYTES (X.XX MiB) installed=KIB KiB (Y.Y MB)
#
# and exits non-zero, saying why, when any check fails. `.ci/run`
# (scripts/test.sh) and the Linux job of .github/workflows/installers.yml run
# it. Extra arguments go to cargo (after tauri's `--`), e.g. `--features x`;
# `--check PATH` skips the build and only checks an existing .deb.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installed-size budget in bytes ("under 25 MB installed").
readonly BUDGET_BYTES=25000000
readonly BIN_NAME=confer-desktop
readonly SCHEME=confer

fail() {
  echo "build-deb: FAIL: $*" >&2
  exit 1
}

command -v dpkg-deb >/dev/null || fail "dpkg-deb not found (Debian package dpkg)"
command -v ldd >/dev/null || fail "ldd not found (Debian package libc-bin)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = --check ]; then
  [ $# -eq 2 ] || fail "usage: $0 --check PATH.deb"
  deb=$2
  [ -f "$deb" ] || fail "$deb does not exist"
else
  tauri=ui/node_modules/.bin/tauri
  [ -x "$tauri" ] || fail "$tauri is missing; run scripts/install-deps.sh (npm ci in ui/)"
  # Cargo may put its output elsewhere (CARGO_TARGET_DIR, .cargo/config); ask it.
  target_dir=$(cargo metadata --no-deps --format-version 1 --locked |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
  deb_dir="$target_dir/release/bundle/deb"
  # Marks the build's start, so that a .deb left by an earlier build (another
  # version, say) is never the one checked.
  touch "$work/started"

  # Run from the repository root, where the CLI finds tauri.conf.json. Its
  # beforeBuildCommand builds the UI (`npm --prefix ui run build`) into
  # ui/dist before cargo builds the release app that embeds it, so the UI is
  # not built here a second time. --ci: no prompts; --locked: the release
  # build uses exactly Cargo.lock, as every other CI step does.
  "$tauri" build --ci --bundles deb -- --locked "$@"

  mapfile -t debs < <(find "$deb_dir" -maxdepth 1 -name '*.deb' -newer "$work/started" 2>/dev/null)
  [ "${#debs[@]}" -eq 1 ] || fail "expected one new .deb in $deb_dir, found ${#debs[@]}"
  deb=${debs[0]}
fi

# The package's own listing and control fields, as dpkg would see them.
dpkg-deb --info "$deb" >/dev/null || fail "$deb is not a valid Debian package"
listing=$(dpkg-deb --contents "$deb")
grep -Eq "[[:space:]](\./)?usr/bin/$BIN_NAME\$" <<<"$listing" ||
  fail "$deb holds no usr/bin/$BIN_NAME"

dpkg-deb --extract "$deb" "$work/root"
bin="$work/root/usr/bin/$BIN_NAME"
[ -x "$bin" ] || fail "usr/bin/$BIN_NAME in $deb is not executable"

mapfile -t entries < <(find "$work/root/usr/share/applications" -maxdepth 1 -name '*.desktop' 2>/dev/null)
[ "${#entries[@]}" -ge 1 ] || fail "$deb holds no usr/share/applications/*.desktop"
entry=""
for e in "${entries[@]}"; do
  grep -Eq "^Exec=[^#]*$BIN_NAME" "$e" && entry=$e
done
[ -n "$entry" ] || fail "no desktop entry in $deb starts $BIN_NAME"
grep -Eq "^MimeType=(.*;)?x-scheme-handler/$SCHEME(;|\$)" "$entry" ||
  fail "${entry#"$work/root"} does not declare MimeType=x-scheme-handler/$SCHEME (confer:// links would not open Confer); see bundle.linux.deb.desktopTemplate in tauri.conf.json"
# Without a %u (or %U) field code the launcher does not hand the link over.
grep -Eq '^Exec=.*%[uU]' "$entry" ||
  fail "${entry#"$work/root"}'s Exec line has no %u, so a confer:// link would not reach the app"

icon=$(sed -n 's/^Icon=//p' "$entry")
icon=${icon%%$'\n'*}
[ -n "$icon" ] || fail "${entry#"$work/root"} names no Icon"
icons=$(find "$work/root/usr/share/icons" -path '*/apps/*' -name "$icon.png" -size +0 2>/dev/null || true)
[ -n "$icons" ] || fail "$deb holds no usr/share/icons/.../apps/$icon.png for Icon=$icon"

# Every library the binary links must resolve here (Depends is meant to pull
# them in on a user's machine; a "not found" means a dependency nobody ships).
ldd_out=$(ldd "$bin") || fail "ldd could not read usr/bin/$BIN_NAME"
if grep -q 'not found' <<<"$ldd_out"; then
  grep 'not found' <<<"$ldd_out" >&2
  fail "usr/bin/$BIN_NAME links libraries that are not found (above)"
fi

size=$(stat -c %s "$deb")
installed_kib=$(dpkg-deb --field "$deb" Installed-Size)
[[ "$installed_kib" =~ ^[0-9]+$ ]] || fail "$deb has no numeric Installed-Size (got '$installed_kib')"
installed_bytes=$((installed_kib * 1024))

awk -v p="$deb" -v s="$size" -v k="$installed_kib" -v b="$installed_bytes" \
  'BEGIN { printf "deb: %s size=%d (%.2f MiB) installed=%d KiB (%.1f MB)\n", p, s, s / 1048576, k, b / 1e6 }'

[ "$installed_bytes" -lt "$BUDGET_BYTES" ] ||
  fail "installed size $installed_bytes bytes ($installed_kib KiB) is not under the $BUDGET_BYTES-byte budget"
