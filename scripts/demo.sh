#!/usr/bin/env bash
# make demo: apply examples/demo on the embedded store, show that a second plan is empty, rotate one
# key outside Terraform through modelkeys-server's API, and show the drift in the next plan.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
work="$root/.demo"
terraform=${TERRAFORM:-terraform}

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

command -v "$terraform" >/dev/null || { echo "make demo needs terraform >= 1.11 on PATH (or TERRAFORM=/path/to/terraform)" >&2; exit 1; }
[ -x "$bin/terraform-provider-modelkeys" ] && [ -x "$bin/modelkeys-server" ] || { echo "run make build first" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
cp "$root/examples/demo/main.tf" "$work/"
cd "$work"

# dev_overrides points Terraform at the provider we just built: no registry, no terraform init.
cat > terraformrc <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/modelkeys/modelkeys" = "$bin"
  }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$work/terraformrc"
export TF_IN_AUTOMATION=1 # shorter output: no "run terraform apply" hints
unset MODELKEYS_ENDPOINT MODELKEYS_TOKEN MODELKEYS_MASTER_KEY

step "terraform apply: credentials, connections and a model policy on the embedded store (.demo/.modelkeys/modelkeys.db)"
"$terraform" apply -auto-approve -no-color > apply.txt 2>&1 || { cat apply.txt >&2; exit 1; }
grep -E "Creation complete|Apply complete" apply.txt

step "terraform plan: nothing changed, so the plan is empty"
"$terraform" plan -no-color -detailed-exitcode 2>&1 | grep -E "No changes|to add|to change" || true

step "Someone rotates the OpenAI key by hand, through modelkeys-server's API"
id=$("$terraform" output -raw openai_credential_id)
token="demo-bootstrap-token-$(date +%s)"
log="$work/server.log"
MODELKEYS_BOOTSTRAP_TOKEN="$token" "$bin/modelkeys-server" serve --db "$work/.modelkeys/modelkeys.db" --listen 127.0.0.1:0 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
url=""
for _ in $(seq 50); do
  url=$(grep -o '"url":"[^"]*"' "$log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "modelkeys-server did not start:" >&2; cat "$log" >&2; exit 1; }
echo "modelkeys-server serve --db .demo/.modelkeys/modelkeys.db  ->  $url"
# Another token than Terraform's set where this key goes, so a new key alone must be bound to the
# version its sender read (If-Match): a key goes only to a destination its sender saw.
etag=$(curl -sf -o /dev/null -D - "$url/v1/credentials/$id" -H "Authorization: Bearer $token" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}')
echo "GET   $url/v1/credentials/$id  ->  ETag: $etag"
echo "PATCH $url/v1/credentials/$id  If-Match: $etag  {\"api_key\": \"sk-proj-rotated-by-hand...\"}"
curl -sf -X PATCH "$url/v1/credentials/$id" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -H "If-Match: $etag" -d '{"api_key":"sk-proj-rotated-by-hand-0000000000009999"}' |
  sed -E 's/.*"secret_hint":"([^"]*)".*"secret_fingerprint":"([^"]*)".*"secret_version":([0-9]+).*/secret_hint=\1 secret_fingerprint=\2 secret_version=\3/'
kill $server; wait $server 2>/dev/null || true
trap - EXIT

step "terraform plan: the drift shows as a warning and an update that puts the declared key back"
set +e
"$terraform" plan -no-color -detailed-exitcode > plan.txt 2>&1
code=$?
set -e
# Terraform's own warning about dev_overrides is noise here; print the rest of the plan.
awk '/Warning: Provider development overrides/{skip=1} skip&&/^releases\.$/{skip=0;next} !skip && !/Refreshing state/' plan.txt
echo "(terraform plan -detailed-exitcode exited $code: 2 means changes)"
[ "$code" = 2 ] || { echo "expected a plan with changes" >&2; exit 1; }

step "terraform apply puts the key back; the next plan is empty again"
"$terraform" apply -auto-approve -no-color > apply.txt 2>&1 || { cat apply.txt >&2; exit 1; }
grep -E "Modifications complete|Apply complete" apply.txt
"$terraform" plan -no-color -detailed-exitcode 2>&1 | grep -E "No changes" || { echo "plan not empty" >&2; exit 1; }
echo
echo "Done. Explore: cd .demo && TF_CLI_CONFIG_FILE=\$PWD/terraformrc terraform state show modelkeys_credential.openai"
