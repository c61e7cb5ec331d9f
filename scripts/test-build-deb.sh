#!/usr/bin/env bash
# Tests the checks in scripts/build-deb.sh (its `--check PATH` mode) on small
# hand-made packages, in seconds and without a release build: a good package
# passes and prints the summary line, and each defect the checks exist for
# (no app binary, no confer:// scheme, no %u, no icon, a library that is not
# found, an installed size at the 25 MB budget) makes it fail with a message
# naming the defect. Run by scripts/test.sh before the real build.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# A binary that links a library which is then removed, so that ldd reports
# "not found" for it, as it would for a dependency no package provides.
printf 'int confer_gone(void) { return 0; }\n' >"$work/gone.c"
printf 'int confer_gone(void);\nint main(void) { return confer_gone(); }\n' >"$work/main.c"
cc -shared -fPIC -o "$work/libconfergone.so" "$work/gone.c"
cc -o "$work/unresolved-bin" "$work/main.c" -L"$work" -lconfergone
rm "$work/libconfergone.so"

# A 1×1 PNG, standing in for the app's icon.
icon_png() {
  printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa75\x81\x84\0\0\0\0IEND\xaeB`\x82'
}

# make_deb NAME [defect]: a package laid out as the Tauri bundler lays out
# Confer's, with the one defect named (or none).
make_deb() {
  local name=$1 defect=${2:-} root="$work/$1" size=22151
  mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/32x32/apps"
  case $defect in
    no-binary) ;;
    unresolved) cp "$work/unresolved-bin" "$root/usr/bin/confer-desktop" ;;
    *) cp /bin/true "$root/usr/bin/confer-desktop" ;;
  esac
  [ "$defect" = no-icon ] || icon_png >"$root/usr/share/icons/hicolor/32x32/apps/confer-desktop.png"
  local exec='Exec=confer-desktop %u' mime='MimeType=x-scheme-handler/confer;'
  [ "$defect" = no-field-code ] && exec='Exec=confer-desktop'
  [ "$defect" = no-scheme ] && mime='MimeType=x-scheme-handler/other;'
  printf '[Desktop Entry]\nName=Confer\n%s\nIcon=confer-desktop\nType=Application\n%s\n' \
    "$exec" "$mime" >"$root/usr/share/applications/Confer.desktop"
  # 24,415 KiB is 25,000,960 bytes, the first size not under the budget;
  # 24,414 KiB (24,999,936 bytes) is the last one under it.
  [ "$defect" = at-budget ] && size=24415
  [ "$defect" = under-budget ] && size=24414
  printf 'Package: confer\nVersion: 0.1.0\nArchitecture: amd64\nMaintainer: Confer <dev@confer.invalid>\nInstalled-Size: %s\nDescription: test package\n' \
    "$size" >"$root/DEBIAN/control"
  dpkg-deb --root-owner-group -Zgzip -b "$root" "$work/$name.deb" >/dev/null
}

# expect NAME pass|fail PATTERN: runs the check on NAME.deb and matches its
# outcome and output (stdout for a pass, the failure message otherwise).
expect() {
  local name=$1 want=$2 pattern=$3 out rc=0
  out=$(bash scripts/build-deb.sh --check "$work/$name.deb" 2>&1) || rc=$?
  if { [ "$want" = pass ] && [ $rc -eq 0 ]; } || { [ "$want" = fail ] && [ $rc -ne 0 ]; }; then
    if grep -Eq -- "$pattern" <<<"$out"; then
      echo "ok   $name: $want"
      return
    fi
  fi
  echo "FAIL $name: wanted $want matching /$pattern/, got exit $rc: $out" >&2
  failures=$((failures + 1))
}

for d in good no-binary no-scheme no-field-code no-icon unresolved at-budget under-budget; do
  make_deb "$d" "$d"
done

expect good pass '^deb: .*/good\.deb size=[0-9]+ \([0-9]+\.[0-9]{2} MiB\) installed=22151 KiB \(22\.7 MB\)$'
expect under-budget pass 'installed=24414 KiB \(25\.0 MB\)$'
expect no-binary fail 'holds no usr/bin/confer-desktop'
expect no-scheme fail 'does not declare MimeType=x-scheme-handler/confer'
expect no-field-code fail 'has no %u'
expect no-icon fail 'apps/confer-desktop\.png for Icon=confer-desktop'
expect unresolved fail 'libconfergone\.so => not found'
expect at-budget fail 'not under the 25000000-byte budget'

if [ $failures -ne 0 ]; then
  echo "test-build-deb: $failures case(s) failed" >&2
  exit 1
fi
echo "test-build-deb: all cases passed"
