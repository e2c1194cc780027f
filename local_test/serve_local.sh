#!/usr/bin/env bash
# Serve the model that train_local.sh wrote: `docker run IMAGE serve` on 127.0.0.1:PORT.
#
#   local_test/serve_local.sh [IMAGE]
#
# IMAGE: the argument, else $BOOSTBOX_IMAGE, else boostbox:latest.
# BOOSTBOX_TEST_DIR: the /opt/ml tree to mount (default: test_dir beside this script).
# BOOSTBOX_PORT: host port, published on loopback only (default 8080).
# Extra container environment: BOOSTBOX_SERVE_ENV="KEY=VALUE KEY2=VALUE2" (e.g. SAGEMAKER_BATCH=true).
# Runs in the foreground and streams the server log; Ctrl-C or SIGTERM stops and removes the
# container, and so does the server exiting on its own (the script then exits with its status).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${1:-${BOOSTBOX_IMAGE:-boostbox:latest}}"
test_dir="$(cd "${BOOSTBOX_TEST_DIR:-${here}/test_dir}" && pwd)"
port="${BOOSTBOX_PORT:-8080}"
name="boostbox-serve-$$-${RANDOM}"

env_args=()
read -r -a extra_env <<<"${BOOSTBOX_SERVE_ENV:-}"
for kv in "${extra_env[@]}"; do
  env_args+=(-e "${kv}")
done

# shellcheck disable=SC2317,SC2329  # invoked by the trap
cleanup() { docker rm -f "${name}" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

docker run -d --name "${name}" --label "org.boostbox.local-test=${test_dir}" \
  -p "127.0.0.1:${port}:8080" -v "${test_dir}:/opt/ml" "${env_args[@]}" \
  "${image}" serve >/dev/null
echo "serving ${test_dir}/model with ${image} at http://127.0.0.1:${port} (container ${name})" >&2

# `wait` returns as soon as a trapped signal arrives; a foreground `docker logs` would not.
docker logs -f "${name}" &
wait "$!" || true
code="$(docker inspect -f '{{.State.ExitCode}}' "${name}")"
exit "${code}"
