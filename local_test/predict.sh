#!/usr/bin/env bash
# POST a payload file to a running server's /invocations and print the answer.
#
#   local_test/predict.sh [PAYLOAD] [CONTENT_TYPE] [ACCEPT]
#
# PAYLOAD: default payload.csv beside this script; CONTENT_TYPE: default text/csv;
# ACCEPT: default */* (the server's default, text/csv). BOOSTBOX_PORT: default 8080.
# Exits non-zero when the server answers an HTTP error (its body goes to stderr).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
payload="${1:-${here}/payload.csv}"
content_type="${2:-text/csv}"
accept="${3:-*/*}"
url="http://127.0.0.1:${BOOSTBOX_PORT:-8080}/invocations"

[[ -f "${payload}" ]] || { echo "no such payload file: ${payload}" >&2; exit 2; }

body="$(mktemp)"
trap 'rm -f "${body}"' EXIT
status="$(curl -sS -o "${body}" -w '%{http_code}' --data-binary "@${payload}" \
  -H "Content-Type: ${content_type}" -H "Accept: ${accept}" "${url}")"
if [[ "${status}" != 2* ]]; then
  echo "HTTP ${status} from ${url}:" >&2
  cat "${body}" >&2
  exit 1
fi
cat "${body}"
