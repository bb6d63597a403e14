#!/usr/bin/env bash
# Generated requests against every operation of a running server's OpenAPI document, as an
# admin, as a clerk and without a token: no answer may be a server error, and every answer's
# Content-Type must be one the document gives for its status (errors: application/problem+json).
# Usage: scripts/fuzz-live.sh BASE_URL ADMIN_PASSWORD [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
base=$1 admin_password=$2 examples=${3:-15}
py=.venv/bin/python

token() {  # token USER PASSWORD
  curl -fsS -H 'Content-Type: application/json' -d "{\"username\": \"$1\", \"password\": \"$2\"}" \
    "$base/api/v1/auth/login" | $py -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

admin=$(token admin "$admin_password")
# A clerk of the first department agency, with a password of this run.
clerk_password="Fuzz-$(date +%s)-Clerk"
agency=$(curl -fsS -H "Authorization: Bearer $admin" "$base/api/v1/agencies?page_size=100" | $py -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(next((a["code"] for a in items if a["level"] == "department"), items[0]["code"]))')
curl -fsS -o /dev/null -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d "{\"username\": \"fuzz.clerk\", \"password\": \"$clerk_password\", \"role\": \"clerk\", \"agency_code\": \"$agency\", \"full_name\": \"Fuzz Clerk\"}" \
  "$base/api/v1/users"
clerk=$(token fuzz.clerk "$clerk_password")

run() {  # run LABEL [HEADER]
  echo "-- schemathesis as $1"
  local auth=()
  [ -n "${2:-}" ] && auth=(-H "Authorization: Bearer $2")
  # The admin's own session and account stay out of reach, so that the run can go on.
  .venv/bin/schemathesis run "$base/api/v1/openapi.json" "${auth[@]}" \
    --checks not_a_server_error,content_type_conformance \
    --max-examples "$examples" --workers 2 --phases examples,coverage,fuzzing \
    --exclude-path /api/v1/auth/logout --exclude-path-regex '^/api/v1/users/\{[^}]+\}$' \
    --suppress-health-check all --no-color
}

run anonymous
run clerk "$clerk"
run admin "$admin"
