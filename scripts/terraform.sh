#!/usr/bin/env bash
# The newest Terraform for the acceptance tests, built from source through the Go module proxy (no binary
# downloads): 1.16.4, the newest stable release the proxy serves (it refuses 1.16.5 and every 1.17 release
# but 1.17.0-beta1).
#
#   scripts/terraform.sh path      print the path of the terraform binary, building it first if it is not cached
#   scripts/terraform.sh testacc   run the provider acceptance tests under it (make testacc-terraform-latest)
#   scripts/terraform.sh profiled  print the path of a build that writes a CPU profile of each run to
#                                  $TERRAFORM_CPUPROFILE_DIR, if set (for BENCHMARKS.md; with
#                                  TERRAFORM_LATEST_VERSION=1.11.4, the Terraform the benchmarks use)
#
# TERRAFORM_LATEST_VERSION picks another release (make testacc-terraform-next: 1.17.0-beta1).
#
# `go install github.com/hashicorp/terraform@vX` refuses: Terraform's go.mod replaces its nested remote-state
# backend modules (github.com/hashicorp/terraform/internal/backend/remote-state/...) with local directories, and
# the module proxy does not serve those. It builds as the main module once they are gone: copy the module
# proxy's copy, make it writable, delete the require and replace lines of github.com/hashicorp/terraform/internal/...
# from its go.mod, drop the remote-state backends that import them (azure, consul, cos, gcs, kubernetes, oci,
# oss, pg, s3) from internal/backend/init/init.go and `go build -mod=mod .` (several minutes). The local, remote
# and cloud backends, which the tests use, stay. The binary is cached outside the repository, in
# ${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys/terraform-VERSION; TERRAFORM_1_16=/path/to/terraform (for a 1.16
# version; TERRAFORM_1_17 for a 1.17 one, and so on) skips all of this.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${TERRAFORM_LATEST_VERSION:-1.16.4}
go=${GO:-go}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/modelkeys"
bin="$cache/terraform-$version"
profiled=""
# TERRAFORM_1_16 for 1.16.x: a binary of that minor version the user already has.
override_var="TERRAFORM_$(echo "$version" | cut -d. -f1,2 | tr . _)"
if [ "${1:-path}" = profiled ]; then
  profiled=1
  bin="$cache/terraform-$version-cpuprofile"
fi

# The remote-state backends that live in nested modules of their own, which the module proxy does not serve.
nested_backends="azure consul cos gcs kubernetes oci oss pg s3"

terraform_path() {
  if [ -n "${!override_var:-}" ] && [ -z "$profiled" ]; then
    echo "${!override_var}"
    return
  fi
  if [ -x "$bin" ]; then
    echo "$bin"
    return
  fi
  echo "building Terraform $version from source into $bin (several minutes, once)" >&2
  local dir src b
  dir=$("$go" mod download -json "github.com/hashicorp/terraform@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { echo "go mod download of github.com/hashicorp/terraform@v$version failed" >&2; exit 1; }
  mkdir -p "$cache"
  src=$(mktemp -d "$cache/terraform-src.XXXXXX")
  trap 'rm -rf "$src"' RETURN
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  # go.mod: no require or replace of the nested modules, in single-line or block form.
  sed -i -E '/^[[:space:]]*(replace[[:space:]]+|require[[:space:]]+)?github\.com\/hashicorp\/terraform\/internal\//d' "$src/go.mod"
  # internal/backend/init/init.go: neither the imports nor the registrations of those backends.
  # An import line names the package's alias (backendS3 "…/remote-state/s3"); its registration calls alias.New.
  local init="$src/internal/backend/init/init.go" alias
  for b in $nested_backends; do
    alias=$(sed -n -E "s/^[[:space:]]*([A-Za-z0-9_]+)[[:space:]]+\"github\.com\/hashicorp\/terraform\/internal\/backend\/remote-state\/$b\"$/\1/p" "$init")
    if [ -z "$alias" ]; then
      # Older releases lack some (1.11 has no oci); an import this cannot parse is an error.
      if grep -q "remote-state/$b\"" "$init"; then echo "cannot parse the import of the $b backend in $init" >&2; exit 1; fi
      continue
    fi
    sed -i -E -e "/\"github\.com\/hashicorp\/terraform\/internal\/backend\/remote-state\/$b\"$/d" -e "/[^A-Za-z0-9_]$alias\.New\(/d" "$init"
  done
  # 1.17 adds github.com/hashicorp/go-tfe/v2, which the module proxy does not serve, for one HCP Terraform
  # feature (terraform query -policies against a cloud workspace): build without it, so that feature
  # fails with a message in this build. Releases without it are left alone.
  if grep -q 'github.com/hashicorp/go-tfe/v2' "$src/go.mod"; then
    sed -i -E '/^[[:space:]]*(require[[:space:]]+)?github\.com\/hashicorp\/go-tfe\/v2[[:space:]]/d' "$src/go.mod"
    python3 - "$src/internal/cloud" <<'PY'
import re, sys
d = sys.argv[1]
def patch(name, edits):
    path = d + "/" + name
    s = open(path).read()
    for pattern, repl in edits:
        s, n = re.subn(pattern, repl, s, count=1, flags=re.S | re.M)
        if n != 1:
            sys.exit("%s: cannot drop the go-tfe v2 client (%r not found)" % (path, pattern))
    open(path, "w").write(s)
patch("backend.go", [
    (r'^\s*tfev2 "github\.com/hashicorp/go-tfe/v2"\n', ''),
    (r'clientV2 \*tfev2\.Client', 'clientV2 *struct{}'),
    (r'^\t\tv2Headers := cfg\.Headers\.Clone\(\).*?failed to create go-tfe v2 client[^\n]*\n\t\t\}\n', ''),
])
patch("backend_query.go", [
    (r'^\s*tfev2models "github\.com/hashicorp/go-tfe/v2/api/models"\n', ''),
    (r'r, err = b\.createQueryRunV2\(stopCtx, queryRunOptions, op\.PolicyPaths\)',
     'err = fmt.Errorf("-policies is not in this build of Terraform (built without go-tfe v2)")'),
    (r'^// createQueryRunV2 .*?^\}\n', ''),
])
PY
  fi
  if [ -n "$profiled" ]; then
    # main(): a CPU profile per run, named after the working directory, the command and the pid. The
    # godebug lines go too: older releases name settings (tlskyber) that newer Go refuses.
    sed -i -E '/^godebug[[:space:]]/d' "$src/go.mod"
    python3 - "$src/main.go" <<'PY'
import sys
path = sys.argv[1]
s = open(path).read()
main = "func main() {\n\tos.Exit(realMain())"
if main not in s:
    sys.exit("main.go: no main() to wrap with a CPU profile")
s = s.replace(main, """func main() {
	if dir := os.Getenv("TERRAFORM_CPUPROFILE_DIR"); dir != "" {
		wd, _ := os.Getwd()
		cmd := "none"
		if len(os.Args) > 1 {
			cmd = os.Args[1]
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("terraform-%s-%s-%d.pprof", filepath.Base(wd), cmd, os.Getpid())))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			code := realMain()
			pprof.StopCPUProfile()
			_ = f.Close()
			os.Exit(code)
		}
	}
	os.Exit(realMain())""")
for imp in ('"fmt"', '"path/filepath"', '"runtime/pprof"'):
    if "\t" + imp + "\n" not in s:
        s = s.replace("import (\n", "import (\n\t" + imp + "\n", 1)
open(path, "w").write(s)
PY
  fi
  # version.dev=no: report "1.16.4" like a release, not "1.16.4-dev" (a prerelease keeps its suffix, "1.17.0-beta1").
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod "$go" build -mod=mod -trimpath \
    -ldflags "-s -w -X github.com/hashicorp/terraform/version.dev=no" -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
  echo "$bin"
}

case "${1:-path}" in
path | profiled)
  terraform_path
  ;;
testacc)
  shift
  terraform=$(terraform_path)
  # Terraform warns about a CLI configuration file that does not exist: give it a real, empty one.
  rc=$(mktemp)
  trap 'rm -f "$rc"' EXIT
  TF_CLI_CONFIG_FILE="$rc" "$terraform" version
  cd "$root"
  TF_ACC=1 \
    TF_ACC_TERRAFORM_PATH="$terraform" \
    TF_CLI_CONFIG_FILE="$rc" \
    CHECKPOINT_DISABLE=1 \
    "$go" test -count=1 -timeout 30m -run "${TESTACC_RUN:-TestAcc}" "$@" ./internal/provider/ ./test/recipes/
  ;;
*)
  echo "usage: $0 path|profiled|testacc [go test flags]" >&2
  exit 2
  ;;
esac
