#!/usr/bin/env bash
# A plain image registry on 127.0.0.1:${REGISTRY_PORT:-5000} (no auth) standing in for ECR in
# push/pull tests. Idempotent; `registry.sh stop` stops the one it started.
# Tries, in order: Debian's docker-registry (the CNCF distribution server) if installed, then
# the `registry:2` image (local or pulled). Exit 3 when neither can run: the caller skips.
#   local_test/registry.sh && docker push 127.0.0.1:5000/NAME:TAG
set -euo pipefail
port="${REGISTRY_PORT:-5000}"
state="${TMPDIR:-/tmp}/boostbox-registry-$port"
container="boostbox-test-registry-$port"

up() { curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; }

wait_up() {
  for _ in $(seq 1 60); do up && return 0; sleep 0.5; done
  echo "registry on 127.0.0.1:$port did not answer; see $state/log" >&2
  tail -5 "$state/log" >&2 2>/dev/null || true
  return 1
}

if [ "${1:-start}" = stop ]; then
  if [ -f "$state/pid" ]; then kill "$(cat "$state/pid")" 2>/dev/null || true; fi
  rm -f "$state/pid"
  docker rm -f "$container" >/dev/null 2>&1 || true
  exit 0
fi

up && exit 0
mkdir -p "$state/data"
if command -v docker-registry >/dev/null 2>&1; then
  cat >"$state/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  setsid docker-registry serve "$state/config.yml" >"$state/log" 2>&1 </dev/null &
  echo "$!" >"$state/pid"
  wait_up
  exit
fi
if docker image inspect registry:2 >/dev/null 2>&1 || docker pull -q registry:2 >/dev/null 2>&1; then
  docker run -d --rm --name "$container" -p "127.0.0.1:$port:5000" registry:2 >"$state/log" 2>&1
  wait_up
  exit
fi
echo "no registry can run here: install Debian's docker-registry package, or let docker pull registry:2" >&2
exit 3
