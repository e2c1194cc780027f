#!/usr/bin/env bash
# Train on a local /opt/ml tree: `docker run IMAGE train` with test_dir mounted at /opt/ml.
#
#   local_test/train_local.sh [IMAGE]
#
# IMAGE: the argument, else $BOOSTBOX_IMAGE, else boostbox:latest.
# BOOSTBOX_TEST_DIR: the /opt/ml tree (default: test_dir beside this script); its model/ and
# output/ are emptied first and receive the model (xgboost-model) and success/failure.
# The container has no network and is removed on exit, Ctrl-C or SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${1:-${BOOSTBOX_IMAGE:-boostbox:latest}}"
test_dir="$(cd "${BOOSTBOX_TEST_DIR:-${here}/test_dir}" && pwd)"
name="boostbox-train-$$-${RANDOM}"

cleanup() { docker rm -f "${name}" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "${test_dir}/model" "${test_dir}/output"
mkdir -p "${test_dir}/model" "${test_dir}/output"

echo "training with ${image} on ${test_dir}" >&2
status=0
docker run --rm --name "${name}" --label "org.boostbox.local-test=${test_dir}" \
  --network none -v "${test_dir}:/opt/ml" "${image}" train || status=$?

if [[ "${status}" -ne 0 ]]; then
  echo "training failed (exit ${status}):" >&2
  cat "${test_dir}/output/failure" >&2 2>/dev/null || echo "(no output/failure file)" >&2
  exit "${status}"
fi
echo "model: ${test_dir}/model" >&2
ls -l "${test_dir}/model" >&2
