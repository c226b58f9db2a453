#!/usr/bin/env bash
# Builds the Pulumi CLI, the Python language host and the Kubernetes provider from pinned Go modules into one
# versioned folder outside the repository, and prints that folder (put it first on PATH). Idempotent: what is
# built is kept, keyed by version, and a second run only checks it (seconds). Nothing third-party is written into
# the repository.
#
#   tools/toolchain/build.sh            build what is missing, print the bin folder
#   ECE_ECK_CACHE=/path ...             cache root (default ~/.cache/ece-eck-remote)
#
# The Kubernetes provider goes to ../plugins beside the bin folder (not on PATH: the engine then takes it from its
# plugin cache, `pulumi plugin install resource kubernetes <version> --file ...`, like a normal install).
# If a `pulumi` of the pinned version is already installed the normal way (on PATH, outside this cache), and its
# folder also has pulumi-language-python, that folder is used instead.
PULUMI_VERSION=3.260.0
LANGUAGE_HOST_SDK_VERSION=3.68.0
K8S_PROVIDER_VERSION=4.25.0
K8S_PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
PYTHON_SCRIPTS_SDK_VERSION=${PULUMI_VERSION}

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin="$cache/toolchain/pulumi-${PULUMI_VERSION}-langhost-${LANGUAGE_HOST_SDK_VERSION}-k8s-${K8S_PROVIDER_VERSION}/bin"
plugins="$(dirname "$bin")/plugins"

installed=$(command -v pulumi 2>/dev/null || true)
if [[ -n "$installed" && "$installed" != "$bin/pulumi" ]]; then
  dir=$(dirname "$(readlink -f "$installed")")
  if [[ "$("$installed" version 2>/dev/null)" == "v${PULUMI_VERSION}" && -x "$dir/pulumi-language-python" ]]; then
    say "using the installed Pulumi in $dir"
    echo "$dir"
    exit 0
  fi
fi

require_go
mkdir -p "$bin" "$plugins" "$work"

if ! stamp_ok pulumi "$PULUMI_VERSION"; then prepare pulumi-cli; fi
build pulumi pulumi-cli "$PULUMI_VERSION" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

if ! stamp_ok pulumi-language-python "$LANGUAGE_HOST_SDK_VERSION"; then prepare pulumi-language-python; fi
build pulumi-language-python pulumi-language-python "$LANGUAGE_HOST_SDK_VERSION" \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${LANGUAGE_HOST_SDK_VERSION}" \
  github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python

if ! stamp_ok pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION"; then
  prepare pulumi-resource-kubernetes
  module_dir=$(cd "$work/pulumi-resource-kubernetes" && go mod download -json "$K8S_PROVIDER_MODULE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') \
    || fail "download of $K8S_PROVIDER_MODULE"
  # What the provider's `go generate` does: stamp the version into the schema, compact both JSON files.
  python3 - "$module_dir/cmd/pulumi-resource-kubernetes" "$work/pulumi-resource-kubernetes" "$K8S_PROVIDER_VERSION" <<'PY' || fail "schema generation"
import json, sys
source, target, version = sys.argv[1:4]
schema = json.load(open(f"{source}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{target}/schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open(f"{source}/terraform-mapping.json")), open(f"{target}/terraform-mapping-embed.json", "w"), separators=(",", ":"))
PY
fi
build pulumi-resource-kubernetes pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION" \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_PROVIDER_VERSION}" .

# The two scripts the Python runtime needs ship inside the sdk/v3 module (the module cache drops exec bits).
if [[ ! -x "$bin/pulumi-language-python-exec" || ! -x "$bin/pulumi-resource-pulumi-python" || "$(cat "$bin/.scripts.stamp" 2>/dev/null)" != "$PYTHON_SCRIPTS_SDK_VERSION" ]]; then
  sdk_dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/sdk/v3@v${PYTHON_SCRIPTS_SDK_VERSION}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') || fail "download of sdk/v3 v${PYTHON_SCRIPTS_SDK_VERSION}"
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
  echo "$PYTHON_SCRIPTS_SDK_VERSION" > "$bin/.scripts.stamp"
fi

[[ "$("$bin/pulumi" version)" == "v${PULUMI_VERSION}" ]] || fail "pulumi reports $("$bin/pulumi" version), expected v${PULUMI_VERSION}"
echo "$bin"
