#!/usr/bin/env bash
# Builds tests/clients/cloudsdkgo, the check that drives the ECE API (the emulator, or a real ECE) with Elastic's
# official Go SDK, github.com/elastic/cloud-sdk-go, pinned in that module's go.mod/go.sum and taken from the Go
# module proxy. Same cache and rules as build.sh: outside the repository, keyed by the SDK version and a hash of the
# program's own files (a changed main.go rebuilds), idempotent (a second run only checks, in well under a second).
# Prints the path of the binary.
#
#   tools/toolchain/build-cloud-sdk-client.sh      build if missing or stale, print the binary
#   ECE_ECK_CACHE=/path ...                        cache root (default ~/.cache/ece-eck-remote)
CLOUD_SDK_GO_VERSION=1.25.0

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source_dir=$(cd "$here/../../tests/clients/cloudsdkgo" && pwd) || fail "tests/clients/cloudsdkgo is missing"
bin="$cache/clients/cloud-sdk-go-${CLOUD_SDK_GO_VERSION}/bin"
name=cloudsdkgo-check

grep -q "github.com/elastic/cloud-sdk-go v${CLOUD_SDK_GO_VERSION}\$" "$source_dir/go.mod" \
  || fail "$source_dir/go.mod does not require github.com/elastic/cloud-sdk-go v${CLOUD_SDK_GO_VERSION} (change both together)"
digest=$(cat "$source_dir/go.mod" "$source_dir/go.sum" "$source_dir"/*.go | sha256sum | cut -c1-16)
stamp_value="${CLOUD_SDK_GO_VERSION}-${digest}"

if ! stamp_ok "$name" "$stamp_value"; then
  require_go
  mkdir -p "$bin" "$work"
  # Built from a copy, so that nothing the build writes lands in the work tree.
  rm -rf "${work:?}/cloudsdkgo" && mkdir -p "$work/cloudsdkgo" && cp "$source_dir"/go.mod "$source_dir"/go.sum "$source_dir"/*.go "$work/cloudsdkgo/"
  (cd "$work/cloudsdkgo" && go mod download) \
    || fail "download of the modules in $source_dir/go.sum from the Go module proxy (offline? GOPROXY=$(go env GOPROXY))"
  build "$name" cloudsdkgo "$stamp_value" "" .
fi
echo "$bin/$name"
