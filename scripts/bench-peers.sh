#!/usr/bin/env bash
# The binaries behind the columns of bench/tf_bench.py that are not ours: HashiCorp Vault and
# terraform-provider-vault (the peer), built from source with their dependencies from the Go module proxy
# (no binary downloads, nothing of theirs in this repository; the current provider's source comes from git,
# below), and the plugin floor (../shared/bench/refprovider).
#
#   scripts/bench-peers.sh vault         print the path of the vault binary, building it first if not cached
#   scripts/bench-peers.sh provider      print the directory holding terraform-provider-vault (dev_overrides)
#   scripts/bench-peers.sh refprovider   print the directory holding the plugin floor's binary (dev_overrides)
#   scripts/bench-peers.sh all           vault, provider and refprovider, one per line
#
# refprovider: ../shared/bench/refprovider as it is, built from a copy (so the build writes nothing
# there). Since 2026-12-07 it has the credential's 29 attributes of today and gives itself, from inside
# the process, the environment our binary gives itself in main.go (GOGC=400 and the SDK loggers off,
# unless TF_LOG* or GOGC is set); setting those for the Terraform run instead would also change
# Terraform's own garbage collector. Rebuilt when its source (or this script, or the patch below) is
# newer than the binary.
#
# Attributes added to modelkeys_credential after the floor was last brought up to date: the framework's
# per-call cost grows faster than linearly with the number of attributes, so a floor missing some would
# flatter us. bench/refprovider-newer-attributes.sed, when it exists, is a sed script applied to the
# copy's main.go that adds exactly those (model fields, schema entries, and fill() values for computed
# ones, as the old refprovider-current patch did for 8 of them); the build fails if it changes nothing.
# There is none today: the floor has every attribute. Say so in BENCHMARKS.md when one is added.
# (refprovider-current, which added 8 attributes the floor now has, is gone; asking for it is an error.)
#
# Vault: `go install github.com/hashicorp/vault@vX` refuses, because Vault's go.mod replaces its nested modules
# (github.com/hashicorp/vault/api, api/auth/*, sdk) with local directories (./api, ./sdk), which the module zip
# does not contain. It builds as the main module once those replaces are gone and the requires point at the
# versions the module proxy serves: download the zip with `go mod download -json` into a private GOPATH (so the
# read-only module cache of the machine is left alone), copy it to a writable directory, delete the `=> ./…`
# replace lines and `go build -mod=mod .` (several minutes, once). No UI (that needs the `ui` build tag and
# node); `vault server -dev` works without it.
#
# terraform-provider-vault (the peer's provider, with vault_kv_secret_v2): a current release, v5.11.0 by
# default (VAULT_PROVIDER_VERSION). The module proxy cannot serve it: the tags after v1.9.0 (v2 to v5) do
# not carry a /vN module path, so the go command ignores them and the proxy refuses them. So the source
# comes from git (VAULT_PROVIDER_GIT, default the project's GitHub repository; a local clone or a bare
# mirror works too): a shallow clone of the tag, then `go build -mod=mod` as the main module, its
# dependencies from the module proxy (a minute or two, once). One of them, vault-plugin-auth-oci at the
# version v5.11.0 requires (v0.21.3), is not served by every proxy; where it is not, the build takes the
# newest one served (v0.21.1: the same API, and the OCI login is not what the benchmark runs).
#
# VAULT_PROVIDER_VERSION=1.9.0 builds the legacy peer instead, which needs no git: the one version the
# module proxy serves. Its go.mod still calls itself github.com/terraform-providers/terraform-provider-vault,
# so `go install` refuses it; like Vault, it builds as the main module from the downloaded zip (without the
# zip's empty vendor/, its 2019 dependencies come from the module proxy and build with Go 1.26). It pins a
# Terraform of before 0.12 (plugin protocol 4, which today's Terraform refuses); the build requires
# github.com/hashicorp/terraform v0.12.29 instead, whose plugin SDK has the same API and serves protocol
# 5. It has no vault_kv_secret_v2; its vault_generic_secret (six attributes, on that old SDK) writes KV v2
# through the secret/data/ path.
#
# The provider's directory holds a file, kv-resource, naming the resource bench/tf_bench.py uses
# (vault_kv_secret_v2, or vault_generic_secret for 1.x); VAULT_KV_RESOURCE overrides it.
#
# Binaries are cached outside the repository, in ${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys/.
# VAULT_BIN=/path/to/vault and VAULT_PROVIDER_DIR=/dir skip the builds.
set -euo pipefail

vault_version=${VAULT_VERSION:-1.21.0}
provider_version=${VAULT_PROVIDER_VERSION:-5.11.0}
provider_git=${VAULT_PROVIDER_GIT:-https://github.com/hashicorp/terraform-provider-vault.git}
go=${GO:-go}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys"
vault_bin="$cache/vault-$vault_version"
provider_terraform=v0.12.29
provider_dir="$cache/terraform-provider-vault-$provider_version"
case "$provider_version" in 1.*) provider_dir="$provider_dir-terraform-$provider_terraform" ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
ref_src=${REFPROVIDER_SRC:-$root/../shared/bench/refprovider}
ref_dir="$cache/refprovider"
ref_patch="$root/bench/refprovider-newer-attributes.sed"

# A private GOPATH/GOMODCACHE under the cache: the module downloads of these builds (large) stay out of
# the machine's module cache and can be deleted with the cache directory.
gopath="$cache/gopath"

# Build directories, removed when the script exits, whether the build worked or not.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

# pgo runs the go command with that GOPATH, resolving modules as needed (-mod=mod).
pgo() { GOPATH="$gopath" GOMODCACHE="$gopath/pkg/mod" GOFLAGS=-mod=mod "$go" "$@"; }

vault_path() {
  if [ -n "${VAULT_BIN:-}" ]; then
    echo "$VAULT_BIN"
    return
  fi
  if [ -x "$vault_bin" ]; then
    echo "$vault_bin"
    return
  fi
  echo "building Vault $vault_version from source into $vault_bin (several minutes, once)" >&2
  mkdir -p "$cache" "$gopath"
  local dir src
  dir=$(pgo mod download -json "github.com/hashicorp/vault@v$vault_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "go mod download of github.com/hashicorp/vault@v$vault_version failed" >&2; exit 1; }
  src=$(mktemp -d "$cache/vault-src.XXXXXX")
  scratch+=("$src")
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  # go.mod: no replace of the nested modules (single-line form, which is what Vault's go.mod uses); their
  # require lines already name versions the module proxy serves.
  sed -i -E '/^[[:space:]]*replace[[:space:]]+github\.com\/hashicorp\/vault\/[^[:space:]]+[[:space:]]+=>[[:space:]]+\.\//d' "$src/go.mod"
  if grep -nE '=>[[:space:]]+\./' "$src/go.mod" >&2; then
    echo "go.mod of Vault $vault_version still replaces a module with a local directory (above)" >&2
    exit 1
  fi
  (cd "$src" && CGO_ENABLED=0 pgo build -trimpath -ldflags "-s -w" -o "$vault_bin.tmp" .)
  mv "$vault_bin.tmp" "$vault_bin"
  echo "$vault_bin"
}

provider_path() {
  if [ -n "${VAULT_PROVIDER_DIR:-}" ]; then
    echo "$VAULT_PROVIDER_DIR"
    return
  fi
  if [ -x "$provider_dir/terraform-provider-vault" ] && [ -f "$provider_dir/kv-resource" ]; then
    echo "$provider_dir"
    return
  fi
  echo "building terraform-provider-vault $provider_version into $provider_dir (a few minutes, once)" >&2
  mkdir -p "$cache" "$gopath"
  local src resource
  src=$(mktemp -d "$cache/terraform-provider-vault-src.XXXXXX")
  scratch+=("$src")
  case "$provider_version" in
  1.*)
    legacy_provider_source "$src"
    resource=vault_generic_secret
    ;;
  *)
    git -c advice.detachedHead=false clone --quiet --depth 1 --branch "v$provider_version" "$provider_git" "$src" >&2 ||
      { echo "cannot clone v$provider_version of terraform-provider-vault from $provider_git: set VAULT_PROVIDER_GIT to a clone or mirror of it, or VAULT_PROVIDER_VERSION=1.9.0 for the legacy peer" >&2; exit 1; }
    local oci
    oci=$(cd "$src" && pgo list -m -f '{{.Version}}' github.com/hashicorp/vault-plugin-auth-oci 2>/dev/null || true)
    if [ -n "$oci" ] && ! (cd "$src" && pgo mod download "github.com/hashicorp/vault-plugin-auth-oci@$oci" 2>/dev/null); then
      local served
      served=$(cd "$src" && pgo list -m -versions github.com/hashicorp/vault-plugin-auth-oci | awk '{print $NF}')
      echo "the module proxy does not serve vault-plugin-auth-oci $oci; building with $served" >&2
      (cd "$src" && pgo mod edit -require="github.com/hashicorp/vault-plugin-auth-oci@$served")
    fi
    resource=vault_kv_secret_v2
    ;;
  esac
  mkdir -p "$provider_dir"
  (cd "$src" && CGO_ENABLED=0 pgo build -trimpath -ldflags "-s -w" -o "$provider_dir/terraform-provider-vault.tmp" .)
  mv "$provider_dir/terraform-provider-vault.tmp" "$provider_dir/terraform-provider-vault"
  echo "$resource" >"$provider_dir/kv-resource"
  echo "$provider_dir"
}

# legacy_provider_source writes the buildable source of terraform-provider-vault 1.x into $1.
legacy_provider_source() {
  local src=$1 dir
  dir=$(pgo mod download -json "github.com/hashicorp/terraform-provider-vault@v$provider_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "go mod download of terraform-provider-vault@v$provider_version failed" >&2; exit 1; }
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  # The zip keeps vendor/modules.txt but not the vendored code: build from the module proxy instead.
  rm -rf "$src/vendor"
  # 1.9.0 pins a pre-release Terraform (March 2019) whose plugin package speaks protocol 4, which
  # Terraform 0.12 and later refuse ("Incompatible API version with plugin"); Terraform v0.12.29's
  # helper/schema is the same API and serves protocol 5.
  (cd "$src" && pgo mod edit -require="github.com/hashicorp/terraform@$provider_terraform")
}

refprovider_path() {
  local out=$ref_dir
  local bin="$out/terraform-provider-modelkeys"
  local newer=("$ref_src" "$0")
  [ -f "$ref_patch" ] && newer+=("$ref_patch")
  if [ -x "$bin" ] && [ -z "$(find "${newer[@]}" -newer "$bin" -type f -print -quit)" ]; then
    echo "$out"
    return
  fi
  [ -f "$ref_src/main.go" ] || { echo "no refprovider source at $ref_src (REFPROVIDER_SRC)" >&2; exit 1; }
  mkdir -p "$out"
  local src
  src=$(mktemp -d "$cache/refprovider-src.XXXXXX")
  scratch+=("$src")
  cp -R "$ref_src/." "$src/"
  chmod -R u+w "$src"
  if [ -f "$ref_patch" ]; then
    sed -i -E -f "$ref_patch" "$src/main.go"
    ! cmp -s "$ref_src/main.go" "$src/main.go" ||
      { echo "refprovider: $ref_patch changed nothing in $ref_src/main.go" >&2; exit 1; }
    gofmt -w "$src/main.go"
    echo "refprovider: built with the attributes of $ref_patch added" >&2
  fi
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod "$go" build -trimpath -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
  echo "$out"
}

case "${1:-all}" in
vault) vault_path ;;
provider) provider_path ;;
refprovider) refprovider_path ;;
refprovider-current)
  echo "refprovider-current is gone: ../shared/bench/refprovider has today's 29 attributes itself; use refprovider" >&2
  exit 2
  ;;
all)
  vault_path
  provider_path
  refprovider_path
  ;;
*)
  echo "usage: $0 vault|provider|refprovider|all" >&2
  exit 2
  ;;
esac
