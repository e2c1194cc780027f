#!/usr/bin/env bash
# Build the boostbox image for linux/amd64 and push it to ECR as <name>:<version> and
# <name>:latest. ECR calls (create repository if missing, login password) go through
# `python -m deploy ecr`, i.e. boto3, which honours AWS_ENDPOINT_URL (tests point it at moto).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: deploy/build_and_push.sh --region REGION (--account ID | --registry HOST[:PORT]) [options]

Builds (linux/amd64) and pushes the image to ECR as NAME:VERSION and NAME:latest, creating
the ECR repository NAME if it is missing. Prints the pushed image URI (NAME:VERSION).

Required (flag, else environment; no silent defaults):
  --region REGION       AWS region                         env AWS_REGION, AWS_DEFAULT_REGION
  --account ID          AWS account id (12 digits)         env AWS_ACCOUNT_ID
  --registry HOST       push here instead of ID.dkr.ecr.REGION.amazonaws.com
                        (e.g. 127.0.0.1:5000; a loopback registry is plain HTTP
                        without auth, so docker login is skipped)  env BOOSTBOX_REGISTRY
Options:
  --name NAME           ECR repository name (default boostbox)  env BOOSTBOX_REPOSITORY
  --version VERSION     image tag (default: pyproject version)  env BOOSTBOX_VERSION
  --image TAG           local image to build into / push (default boostbox:latest)
  --no-build            push the existing --image as it is (it must be linux/amd64)
  --context DIR         build context (default: the project root)
  --dockerfile FILE     Dockerfile (default: DIR/Dockerfile)
  -h, --help            this text
Environment: PYTHON (interpreter with boto3; default .venv/bin/python, else python3).
USAGE
}

log() { printf 'build_and_push: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
account="${AWS_ACCOUNT_ID:-}"
registry="${BOOSTBOX_REGISTRY:-}"
name="${BOOSTBOX_REPOSITORY:-boostbox}"
version="${BOOSTBOX_VERSION:-}"
image="boostbox:latest"
build=1
context="$root"
dockerfile=""

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --no-build) build=0; shift; continue ;;
    --region | --account | --registry | --name | --version | --image | --context | --dockerfile)
      [ "$#" -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --region) region="$2" ;;
        --account) account="$2" ;;
        --registry) registry="$2" ;;
        --name) name="$2" ;;
        --version) version="$2" ;;
        --image) image="$2" ;;
        --context) context="$2" ;;
        --dockerfile) dockerfile="$2" ;;
      esac
      shift 2 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ -n "$region" ] || die "missing region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION"
if [ -z "$registry" ]; then
  [ -n "$account" ] || die "missing account: pass --account or set AWS_ACCOUNT_ID (or --registry)"
  [[ "$account" =~ ^[0-9]{12}$ ]] || die "--account has value '$account': not a 12-digit id"
  registry="$account.dkr.ecr.$region.amazonaws.com"
fi
[[ "$name" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] || die "--name has value '$name': not an ECR name"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
deploy_py() { PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -m deploy "$@"; }

[ -n "$version" ] || version="$(deploy_py version)"
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "--version '$version' is not a tag"

if [ "$build" -eq 1 ]; then
  [ -n "$dockerfile" ] || dockerfile="$context/Dockerfile"
  platform=(--platform linux/amd64)
  build_help="$(docker build --help 2>&1 || true)"  # no `| grep -q`: SIGPIPE + pipefail
  if [[ "$build_help" != *--platform* ]]; then
    [ "$(uname -m)" = x86_64 ] || die "docker build lacks --platform and this host is not amd64"
    log "docker build has no --platform; building natively on this amd64 host"
    platform=()
  fi
  log "building $image from $dockerfile (linux/amd64)"
  docker build --network host "${platform[@]}" -t "$image" -f "$dockerfile" "$context" >&2
else
  docker image inspect "$image" >/dev/null 2>&1 || die "image $image not found (drop --no-build)"
fi
arch="$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$image")"
[ "$arch" = linux/amd64 ] || die "image $image is $arch, SageMaker runs linux/amd64"

repository_uri="$(deploy_py ecr ensure-repository --region "$region" "$name")"
log "ECR repository: $repository_uri"

case "$registry" in
  127.* | localhost | localhost:*)
    log "skipping docker login: $registry is a loopback registry (plain HTTP, no auth)" ;;
  *)
    log "logging in to $registry"
    deploy_py ecr login-password --region "$region" \
      | docker login --username AWS --password-stdin "$registry" >&2 ;;
esac

target="$registry/$name"
for tag in "$version" latest; do
  docker tag "$image" "$target:$tag"
  log "pushing $target:$tag"
  docker push "$target:$tag" >&2
done
printf '%s\n' "$target:$version"
