#!/usr/bin/env bash
# OpenTofu for the acceptance tests, built from source through the Go module proxy (no binary downloads).
#
#   scripts/opentofu.sh path      print the path of the tofu binary, building it first if it is not cached
#   scripts/opentofu.sh testacc   run the provider acceptance tests under OpenTofu (make testacc-opentofu)
#
# `go install github.com/opentofu/opentofu/cmd/tofu@vX` refuses because OpenTofu's go.mod has replace
# directives, but the module builds as the main module: copy the module proxy's copy, make it writable
# and `go build ./cmd/tofu` there (5 to 10 minutes). The binary is cached outside the repository, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys/tofu-VERSION; TOFU=/path/to/tofu skips all of this.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${OPENTOFU_VERSION:-1.12.6}
go=${GO:-go}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys"
bin="$cache/tofu-$version"

tofu_path() {
  if [ -n "${TOFU:-}" ]; then
    echo "$TOFU"
    return
  fi
  if [ -x "$bin" ]; then
    echo "$bin"
    return
  fi
  echo "building OpenTofu $version from source into $bin (5 to 10 minutes, once)" >&2
  local dir src
  dir=$("$go" mod download -json "github.com/opentofu/opentofu@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "go mod download of github.com/opentofu/opentofu@v$version failed" >&2; exit 1; }
  mkdir -p "$cache"
  src=$(mktemp -d "$cache/opentofu-src.XXXXXX")
  trap 'rm -rf "$src"' RETURN
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  # version.dev=no: report "1.12.6" like a release, not "1.12.6-dev".
  (cd "$src" && CGO_ENABLED=0 "$go" build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$bin.tmp" ./cmd/tofu)
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

case "${1:-path}" in
path)
  tofu_path
  ;;
testacc)
  shift
  tofu=$(tofu_path)
  # OpenTofu, like Terraform, warns about a CLI configuration file that does not exist: give it a real one.
  rc=$(mktemp)
  trap 'rm -f "$rc"' EXIT
  TF_CLI_CONFIG_FILE="$rc" "$tofu" version
  cd "$root"
  TF_ACC=1 \
    TF_ACC_TERRAFORM_PATH="$tofu" \
    TF_ACC_PROVIDER_HOST=registry.opentofu.org \
    TF_CLI_CONFIG_FILE="$rc" \
    TOFU_CLI_CONFIG_FILE="$rc" \
    CHECKPOINT_DISABLE=1 \
    "$go" test -count=1 -timeout 30m -run "${TESTACC_RUN:-TestAcc}" "$@" ./internal/provider/
  ;;
*)
  echo "usage: $0 path|testacc [go test flags]" >&2
  exit 2
  ;;
esac
