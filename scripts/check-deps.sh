#!/usr/bin/env bash
# Architectural rules the compiler cannot see (DESIGN.md, "Layout").
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
# Capture first: a failing `cargo tree` must fail the check, not read as "no match".
router_deps=$(cargo tree -p confer-router --edges normal,build --prefix none --locked)
wire_deps=$(cargo tree -p confer-wire --edges normal --prefix none --locked)
# The router must never be able to decrypt media: it may not depend on confer-e2e.
if grep -q '^confer-e2e ' <<<"$router_deps"; then
  echo "check-deps: confer-router depends on confer-e2e; the router must never hold E2E keys" >&2
  fail=1
fi
# confer-wire stays free of I/O and async runtimes.
if grep -Eq '^(tokio|quinn|reqwest|hyper|mio) ' <<<"$wire_deps"; then
  echo "check-deps: confer-wire depends on an I/O crate" >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "check-deps: ok (confer-router does not depend on confer-e2e; confer-wire has no I/O crates)"
exit $fail
