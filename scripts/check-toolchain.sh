#!/usr/bin/env bash
# Fails when the go on PATH is older than the toolchain line of go.mod (and of each tools/ module):
# with GOTOOLCHAIN=local, as CI and releases run, an older go builds anyway, with the standard library
# vulnerabilities that the toolchain line was raised past.
set -euo pipefail
cd "$(dirname "$0")/.."

have=$(go env GOVERSION)
status=0
for mod in go.mod tools/go.mod tools/golangci-lint/go.mod tools/goreleaser/go.mod; do
	want=$(sed -n 's/^toolchain //p' "$mod")
	if [ -z "$want" ]; then
		echo "$mod: no toolchain line; add one (go mod edit -toolchain=goX.Y.Z) naming the Go release to build with" >&2
		status=1
		continue
	fi
	if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
		echo "$mod asks for $want but the go on PATH is $have: install $want or newer (setup-go reads the toolchain line of go.mod)" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "toolchain: $have, at least what go.mod and tools/ ask for"
exit "$status"
