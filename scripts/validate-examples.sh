#!/usr/bin/env bash
# make examples-check: every example is formatted and valid against the provider built from this tree.
#
#   terraform fmt -check -recursive examples/
#   terraform validate in every directory under examples/ that holds .tf files, with dev_overrides
#   pointing at a freshly built provider (no terraform init, no registry, no network).
#
# Resource and data-source examples are snippets for the docs and declare no required_providers; the
# check adds one beside them in a scratch copy. TERRAFORM=/path/to/tofu checks them with OpenTofu.
#
# Examples of list resources and actions (examples/list-resources, examples/actions, examples/ci;
# .tfquery.hcl files and action blocks) need Terraform 1.14+: when $TERRAFORM is older they are validated with the
# Terraform of scripts/terraform.sh (built once and cached), or skipped with a message when
# EXAMPLES_SKIP_LATEST=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
terraform=${TERRAFORM:-terraform}
go=${GO:-go}
command -v "$terraform" >/dev/null || { echo "examples-check needs terraform >= 1.11 on PATH (or TERRAFORM=...)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "==> building the provider"
(cd "$root" && CGO_ENABLED=0 "$go" build -o "$work/bin/terraform-provider-modelkeys" .)

cat > "$work/terraformrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/modelkeys/modelkeys" = "$work/bin"
    "registry.opentofu.org/modelkeys/modelkeys" = "$work/bin"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1
unset MODELKEYS_ENDPOINT MODELKEYS_TOKEN MODELKEYS_PROJECT

# Terraform 1.14+ for the examples that need it: $TERRAFORM when it is recent enough, else scripts/terraform.sh's.
tf_minor=$("$terraform" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"1\.\([0-9]*\)\..*/\1/p' | head -1)
latest=""
if [ -n "$tf_minor" ] && [ "$tf_minor" -ge 14 ]; then
  latest=$terraform
elif [ "${EXAMPLES_SKIP_LATEST:-}" != 1 ]; then
  latest=$("$root/scripts/terraform.sh" path)
fi
needs_latest() {
  case "$1" in examples/list-resources/* | examples/actions/* | examples/ci/*) return 0 ;; esac
  # Any other example with an action block (a guide's) needs it too.
  grep -qsE '^[[:space:]]*action "' "$root/$1"/*.tf
}

echo "==> $terraform fmt -check -recursive examples/"
if [ -n "$latest" ]; then
  (cd "$root" && "$latest" fmt -check -recursive -diff examples/)
else
  (cd "$root" && "$terraform" fmt -check -recursive -diff $(find examples -mindepth 1 -maxdepth 1 -type d -not -name list-resources -not -name actions -not -name ci | sort))
fi

echo "==> $terraform validate in every example"

failed=0
count=0
skipped=0
while IFS= read -r dir; do
  rel=${dir#"$root"/}
  tf=$terraform
  validate_args=()
  if needs_latest "$rel"; then
    if [ -z "$latest" ]; then
      echo "skip  $rel (needs Terraform 1.14+; $terraform is older and EXAMPLES_SKIP_LATEST=1)"
      skipped=$((skipped + 1))
      continue
    fi
    tf=$latest
    validate_args=(-query)
  fi
  scratch="$work/examples/$rel"
  mkdir -p "$scratch"
  find "$dir" -maxdepth 1 -type f \( -name '*.tf' -o -name '*.tfquery.hcl' \) -exec cp {} "$scratch/" \;
  if ! grep -qs 'required_providers' "$scratch"/*.tf; then
    cat > "$scratch/zz_required_providers.tf" <<'HCL'
terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}
HCL
  fi
  if [ "$tf" != "$terraform" ]; then
    # scripts/terraform.sh's build has no remote-state backends of nested modules (s3, gcs, ...):
    # validate the example's configuration without its empty backend block.
    sed -i -E '/^[[:space:]]*backend "[a-z0-9_]+" \{\}[[:space:]]*$/d' "$scratch"/*.tf
  fi
  # A module example with an ephemeral output (an error in a root module) is validated as a module,
  # called from a root that sets its required variables to null; init installs the local module (it
  # cannot install the provider, which dev_overrides supplies, and says so; validate goes on).
  if [[ "$rel" == examples/modules/* ]] && wrapper=$(python3 - "$scratch" <<'PY'
import glob, re, sys
required, ephemeral_output = [], False
for path in sorted(glob.glob(sys.argv[1] + "/*.tf")):
    text = open(path).read()
    for m in re.finditer(r'^(variable|output) "([A-Za-z0-9_-]+)" \{(.*?)^\}', text, re.S | re.M):
        if m.group(1) == "variable" and not re.search(r'^\s*default\s*=', m.group(3), re.M):
            required.append(m.group(2))
        if m.group(1) == "output" and re.search(r'^\s*ephemeral\s*=\s*true', m.group(3), re.M):
            ephemeral_output = True
if not ephemeral_output:
    sys.exit(1)
print('module "example" {\n  source = "./module"')
for name in required:
    print("  %s = null" % name)
print("}")
PY
  ); then
    mkdir -p "$scratch/module"
    find "$scratch" -maxdepth 1 -type f -name '*.tf' -exec mv {} "$scratch/module/" \;
    printf '%s\n' "$wrapper" > "$scratch/main.tf"
    (cd "$scratch" && "$tf" init -backend=false -no-color >/dev/null 2>&1) || true
  fi
  count=$((count + 1))
  if out=$(cd "$scratch" && "$tf" validate "${validate_args[@]}" -no-color 2>&1); then
    echo "ok    $rel"
  else
    echo "FAIL  $rel"
    # Terraform's warning about dev_overrides is expected here; show the rest.
    printf '%s\n' "$out" | awk '/Warning: Provider development overrides/{skip=1} skip&&/releases\.$/{skip=0;next} !skip' | sed 's/^/      /'
    failed=$((failed + 1))
  fi
done < <(find "$root/examples" \( -name '*.tf' -o -name '*.tfquery.hcl' \) -not -path '*/.terraform/*' -exec dirname {} \; | sort -u)

echo "$((count - failed)) passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
