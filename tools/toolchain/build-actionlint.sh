#!/usr/bin/env bash
# Builds actionlint, the linter `make lint` runs on the example GitHub Actions workflow (examples/github-actions/),
# from its Go module github.com/rhysd/actionlint, pinned with every dependency in the wrapper module ./actionlint
# (go.mod, go.sum) and taken from the Go module proxy. Same cache and rules as build.sh: outside the repository,
# keyed by version, idempotent (when the binary of the pinned version is there, nothing is built or downloaded and
# this takes milliseconds). Prints the path of the binary.
#
#   tools/toolchain/build-actionlint.sh      build if missing, print the binary
#   ECE_ECK_CACHE=/path ...                  cache root (default ~/.cache/ece-eck-remote)
ACTIONLINT_VERSION=1.7.12

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin="$cache/toolchain/actionlint-${ACTIONLINT_VERSION}/bin"
name=actionlint

if ! stamp_ok "$name" "$ACTIONLINT_VERSION"; then
  grep -q "^	github.com/rhysd/actionlint v${ACTIONLINT_VERSION} " "$here/actionlint/go.mod" \
    || fail "$here/actionlint/go.mod does not require github.com/rhysd/actionlint v${ACTIONLINT_VERSION} (change both together)"
  require_go
  mkdir -p "$bin" "$work"
  prepare actionlint
  build "$name" actionlint "$ACTIONLINT_VERSION" "-X github.com/rhysd/actionlint.version=v${ACTIONLINT_VERSION}" \
    github.com/rhysd/actionlint/cmd/actionlint
  [[ "$("$bin/$name" -version | head -1)" == "v${ACTIONLINT_VERSION}" ]] \
    || fail "actionlint reports $("$bin/$name" -version | head -1), expected v${ACTIONLINT_VERSION}"
fi
echo "$bin/$name"
