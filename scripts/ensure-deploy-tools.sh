#!/usr/bin/env bash
# Make sure the system tools the deploy/dashboard tests need are installed (idempotent).
#
#   scripts/ensure-deploy-tools.sh            # prometheus + promtool, shellcheck, systemd-analyze,
#                                             # docker-compose (only `config`, no engine), python3 + PyYAML
#   scripts/ensure-deploy-tools.sh --png      # also rsvg-convert (optional SVG -> PNG for churn-demo)
#
# Installs Debian packages with apt-get only for the commands that are missing; does nothing when all are
# present. Runs `apt-get update` only when a package has no install candidate (fresh machine, empty lists).
# Never starts services: the tests run the prometheus binary directly with a temporary config.
set -euo pipefail

want_png=0
for arg in "$@"; do
  case "$arg" in
    --png) want_png=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "ensure-deploy-tools: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# command -> Debian package providing it
declare -A pkg_of=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [shellcheck]=shellcheck
  [systemd-analyze]=systemd
  [docker-compose]=docker-compose
)
if [[ $want_png -eq 1 ]]; then
  pkg_of[rsvg-convert]=librsvg2-bin
fi

missing=()
for cmd in "${!pkg_of[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    pkg="${pkg_of[$cmd]}"
    if [[ " ${missing[*]-} " != *" $pkg "* ]]; then
      missing+=("$pkg")
    fi
  fi
done

# YAML parsing for the Kubernetes/compose structural checks: any python3 on PATH or Debian's with PyYAML.
has_pyyaml() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import yaml' >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}
if ! has_pyyaml; then
  missing+=(python3 python3-yaml)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "ensure-deploy-tools: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deploy-tools: no apt-get; install these packages yourself: ${missing[*]}" >&2
  exit 1
fi

needs_update=0
for pkg in "${missing[@]}"; do
  if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    needs_update=1
  fi
done
if [[ $needs_update -eq 1 ]]; then
  echo "ensure-deploy-tools: apt-get update" >&2
  "${sudo[@]}" apt-get update -qq
fi

echo "ensure-deploy-tools: installing ${missing[*]}" >&2
# policy-rc.d style: never start the packaged services; we only want the binaries.
export DEBIAN_FRONTEND=noninteractive
export RUNLEVEL=1
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

for cmd in "${!pkg_of[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "ensure-deploy-tools: $cmd still missing after install" >&2
    exit 1
  fi
done
if ! has_pyyaml; then
  echo "ensure-deploy-tools: python3 with PyYAML still missing after install" >&2
  exit 1
fi
