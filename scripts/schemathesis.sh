#!/usr/bin/env bash
# Checks the running server against its own OpenAPI description with
# schemathesis (https://schemathesis.readthedocs.io): every operation is
# called with generated valid and invalid requests, and the run fails on any
# 5xx answer, any answer whose status, content type or body the description
# does not allow.
#
# Starts confer-server on loopback with a throwaway data directory (and so
# its own development CA), signs up an account (an organisation owner, so
# the admin endpoints are exercised too) and sends its access token with
# every request. One worker: with two, Python 3.11's parser trips over
# itself inside Hypothesis ("AST constructor recursion depth mismatch").
# Retries cover a keep-alive race seen once in many runs (the client reused
# a connection the server had just closed: "SSL: EOF occurred in violation
# of protocol"); a server that failed to answer would fail every retry.
# Generation is bounded (a fixed seed, at most 100 examples per operation)
# so the tests take about a minute on 2 cores once the server is built.
#
# Usage: scripts/schemathesis.sh [extra schemathesis run options]
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 100), SCHEMATHESIS_SEED,
# SCHEMATHESIS_SERVER_LOG (the server's --log filter, default warn).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
seed=${SCHEMATHESIS_SEED:-20261124}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --locked -p confer-server --bin confer-server

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

target/debug/confer-server --data-dir "$work/data" --listen-host 127.0.0.1 \
  --http-port 0 --quic-port 0 --tls-port 0 --log "${SCHEMATHESIS_SERVER_LOG:-warn}" \
  >"$work/ready" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q '^confer-server ready' "$work/ready" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
ready=$(grep '^confer-server ready' "$work/ready") || { echo "the server did not start" >&2; exit 1; }
api=$(sed -E 's/.* api=([^ ]+).*/\1/' <<<"$ready")
ca=$(sed -E 's/.* ca=([^ ]+).*/\1/' <<<"$ready")

# An account to call the authenticated endpoints with.
email=schemathesis@confer.test
password=schemathesis-password
# call METHOD PATH [JSON] [FIELD]: the response body, or one field of it.
call() {
  local auth=()
  [ -n "${token:-}" ] && auth=(-H "Authorization: Bearer $token")
  curl --silent --show-error --fail --cacert "$ca" -X "$1" "${auth[@]}" \
    -H 'content-type: application/json' ${3:+-d "$3"} "$api$2" |
    python3 -c 'import json, sys; v = json.load(sys.stdin); f = sys.argv[1:]; print(v[f[0]] if f else v)' ${4:+"$4"}
}
token=
call POST /api/v1/accounts \
  "{\"email\":\"$email\",\"password\":\"$password\",\"first_name\":\"Schema\",\"last_name\":\"Thesis\"}" >/dev/null
token=$(call POST /api/v1/login "{\"email\":\"$email\",\"password\":\"$password\"}" access_token)

# Things for the path parameters to name, so the tests get past "not found"
# into each handler's logic. Deleting one is tested on a copy of its own.
meeting=$(call POST /api/v1/meetings '{"topic":"Seeded"}' meeting_id)
doomed_meeting=$(call POST /api/v1/meetings '{"topic":"To delete"}' meeting_id)
invite=$(call GET "/api/v1/meetings/$meeting" "" invite_url)
invite_code=${invite##*/}
member=$(call POST /api/v1/org/users '{"email":"member@confer.test","display_name":"Mem Ber"}' user_id)
doomed_member=$(call POST /api/v1/org/users '{"email":"doomed@confer.test","display_name":"Doomed"}' user_id)
client=$(call POST /api/v1/org/oauth-clients \
  '{"name":"Seeded","scopes":["meeting:read"],"auth_method":"client_secret"}' client_id)
doomed_client=$(call POST /api/v1/org/oauth-clients \
  '{"name":"To delete","scopes":["meeting:read"],"auth_method":"client_secret"}' client_id)
# Nothing listens on port 9, so the URL validation challenge fails at once.
webhook=$(call POST /api/v1/org/webhooks \
  '{"url":"https://127.0.0.1:9/hook","events":["meeting.started"]}' webhook_id)
call POST /api/v1/org/domains '{"domain":"confer.test"}' >/dev/null

config="$work/schemathesis.toml"
cat >"$config" <<TOML
[[operations]]
include-path-regex = "^/api/v1/meetings/[{]id[}]"
exclude-method = "DELETE"
parameters = { "path.id" = "$meeting" }

[[operations]]
include-path = "/api/v1/meetings/{id}"
exclude-method-regex = "^(GET|PATCH)$"
parameters = { "path.id" = "$doomed_meeting" }

[[operations]]
include-path = "/api/v1/invitations/{code}"
parameters = { "path.code" = "$invite_code" }

[[operations]]
include-path = "/api/v1/org/users/{id}"
exclude-method = "DELETE"
parameters = { "path.id" = "$member" }

[[operations]]
include-path = "/api/v1/org/users/{id}"
exclude-method = "PATCH"
parameters = { "path.id" = "$doomed_member" }

[[operations]]
include-path-regex = "^/api/v1/org/oauth-clients/[{]id[}]/"
parameters = { "path.id" = "$client" }

[[operations]]
include-path = "/api/v1/org/oauth-clients/{id}"
parameters = { "path.id" = "$doomed_client" }

[[operations]]
include-path-regex = "^/api/v1/org/webhooks/[{]id[}]"
parameters = { "path.id" = "$webhook" }

[[operations]]
include-path = "/api/v1/org/domains/{domain}"
parameters = { "path.domain" = "confer.test" }
TOML
# (An [[operations]] entry's include filters are alternatives, so each
# narrows by path and leaves methods out with exclude filters.)

# An API client with every scope, for a second, shorter pass: its token
# reaches the scope checks (403 insufficient_scope) a person's never does.
client_secret_json=$(call POST /api/v1/org/oauth-clients \
  '{"name":"Schemathesis","scopes":["meeting:read","meeting:write","meeting:join","report:read","user:read","user:write","audit:read"],"auth_method":"client_secret"}')
client_token=$(python3 -c 'import ast, sys; v = ast.literal_eval(sys.argv[1]); print(v["client_id"] + " " + v["client_secret"])' "$client_secret_json" |
  { read -r id secret
    curl --silent --show-error --fail --cacert "$ca" -d grant_type=client_credentials \
      --data-urlencode "client_id=$id" --data-urlencode "client_secret=$secret" "$api/oauth/token"; } |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# run_pass BEARER MAX_EXAMPLES [extra options]
run_pass() {
  local bearer=$1 examples=$2
  shift 2
  "$venv/bin/schemathesis" --config-file "$config" run "$api/openapi.json" \
    --tls-verify "$ca" \
    --header "Authorization: Bearer $bearer" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 20 \
    --request-retries 2 \
    --suppress-health-check too_slow,filter_too_much \
    --report junit --report-dir target/schemathesis-report \
    "$@"
}

status=0
echo "=== as the organisation's owner"
run_pass "$token" "$max_examples" "$@" || status=$?
if [ "$status" -eq 0 ]; then
  echo "=== as an API client"
  run_pass "$client_token" "$(( (max_examples + 4) / 5 ))" "$@" || status=$?
fi

if [ "$status" -ne 0 ]; then
  echo "--- server log (errors and warnings) ---" >&2
  grep -E "WARN|ERROR|ended with an error" "$work/server.log" | tail -n 50 >&2
fi
exit "$status"
