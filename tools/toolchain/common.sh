# Shared by the toolchain build scripts: a versioned cache outside the repository, build steps that are skipped when
# their stamp matches, and clear failures. Source it; set `bin` (and optionally `plugins`) first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ECE_ECK_CACHE:-$HOME/.cache/ece-eck-remote}
work="$cache/toolchain/build"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local

say() { printf 'toolchain: %s\n' "$*" >&2; }
fail() { printf 'toolchain: FAILED: %s\n' "$*" >&2; exit 1; }

require_go() { command -v go >/dev/null || fail "Go is needed to build the toolchain (go1.24 or newer)"; }

# The folder a binary goes to: providers outside PATH (the engine takes them from its plugin cache).
where() { if [[ $1 == pulumi-resource-* ]]; then echo "${plugins:-$bin}"; else echo "$bin"; fi; }
stamp_ok() { local dir; dir=$(where "$1"); [[ -x "$dir/$1" && -f "$dir/.$1.stamp" && "$(cat "$dir/.$1.stamp")" == "$2" ]]; }
stamp() { echo "$2" > "$(where "$1")/.$1.stamp"; }

# Copy a wrapper module out of the repository, so generated files never land in the work tree.
prepare() { rm -rf "${work:?}/$1" && mkdir -p "$work/$1" && cp "$here/$1"/* "$work/$1/"; }

build() { # name wrapper-module version ldflags package
  local name=$1 module=$2 version=$3 ldflags=$4 package=$5 started
  if stamp_ok "$name" "$version"; then return; fi
  [[ -d "$work/$module" ]] || prepare "$module"
  say "building $name $version (cold builds take minutes on 2 cores)"
  started=$(date +%s)
  (cd "$work/$module" && go build -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w $ldflags" -o "$(where "$name")/$name" "$package") \
    || fail "go build of $name $version (see the output above)"
  stamp "$name" "$version"
  say "built $name in $(( $(date +%s) - started ))s"
}
