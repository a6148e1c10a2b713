#!/usr/bin/env bash
# make docs        regenerate docs/ from the provider's schema, templates/ and examples/, then validate it
# make docs-check  fail when docs/ is not what generation gives (regenerates into a scratch copy)
#
# Offline: tfplugindocs (a tool of tools/go.mod, `go tool -modfile=tools/go.mod tfplugindocs`) builds the provider and asks the
# terraform binary on PATH for its schema; it downloads nothing when one is there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-generate}
go=${GO:-go}

command -v terraform >/dev/null || { echo "docs need terraform on PATH (tfplugindocs would download one otherwise)" >&2; exit 1; }

# Terraform warns about a CLI configuration file that does not exist; give it a real, empty one.
rc=$(mktemp)
scratch=""
trap 'rm -rf "$rc" ${scratch:+"$scratch"}' EXIT
export TF_CLI_CONFIG_FILE="$rc"
export CHECKPOINT_DISABLE=1

# List resources and actions are in the schema only for Terraform 1.14+: when the terraform on PATH is
# older, put scripts/terraform.sh's (built once and cached) first on PATH for tfplugindocs.
tf_minor=$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"1\.\([0-9]*\)\..*/\1/p' | head -1)
if [ -z "$tf_minor" ] || [ "$tf_minor" -lt 14 ]; then
  latest_bin=$(mktemp -d)
  ln -s "$("$root/scripts/terraform.sh" path)" "$latest_bin/terraform"
  export PATH="$latest_bin:$PATH"
fi

generate() { # dir
  (cd "$1" && "$go" tool -modfile=tools/go.mod tfplugindocs generate --provider-name modelkeys --rendered-provider-name modelkeys >/dev/null)
  local log
  log=$(mktemp)
  if ! (cd "$1" && "$go" tool -modfile=tools/go.mod tfplugindocs validate --provider-name modelkeys >"$log" 2>&1); then
    grep -v '\[DEBUG\]' "$log" >&2
    rm -f "$log"
    echo "tfplugindocs validate failed" >&2
    return 1
  fi
  rm -f "$log"
  echo "tfplugindocs validate: ok"
}

case "$mode" in
generate)
  generate "$root"
  echo "docs/ regenerated"
  ;;
check)
  scratch=$(mktemp -d)
  (cd "$root" && tar cf - --exclude='./bin' --exclude='./dist' --exclude='./.git' --exclude='./.demo' \
    --exclude='*/.terraform' --exclude='./bench' .) | (cd "$scratch" && tar xf -)
  generate "$scratch"
  if ! diff -ru "$root/docs" "$scratch/docs"; then
    echo "docs/ is stale: run make docs and commit the result" >&2
    exit 1
  fi
  echo "docs/ is up to date"
  ;;
*)
  echo "usage: $0 [generate|check]" >&2
  exit 2
  ;;
esac
