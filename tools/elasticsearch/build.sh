#!/usr/bin/env bash
# Assembles a runnable Elasticsearch 8.19.21 from the jars on Maven Central (no tarball or image can be fetched
# here) into one versioned folder outside the repository, and prints that folder (the Elasticsearch home).
# Idempotent: a home whose stamp matches the build inputs is only checked (well under a second). A build goes to a
# temporary folder renamed into place at the end, so a killed build never leaves a home that looks finished.
# Nothing third-party is written into the repository. See /work/shared/reference/real-elasticsearch.md.
#
#   tools/elasticsearch/build.sh        build what is missing, print the home
#   ECE_ECK_CACHE=/path ...             cache root (default ~/.cache/ece-eck-remote)
#   MAVEN_REPO_LOCAL=/path ...          Maven's local repository (default ~/.m2/repository)
#
# The home holds: lib/ (server jars, the module path), modules/<name>/ (transport-netty4, x-pack-core,
# x-pack-security and analysis-shim, each with its plugin-descriptor.properties and its own runtime jars), empty
# placeholder jars standing in for the OpenSAML/Shibboleth modules x-pack-security requires (not on Maven Central;
# SAML is unusable), and launcher/ with our classes (java/launcher): the node launcher `eceeck.es.Launcher` and
# the keystore writer `eceeck.es.KeystoreTool`. Each jar is checked against jars.lock (SHA-256) before use.
ES_VERSION=8.19.21
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ECE_ECK_CACHE:-$HOME/.cache/ece-eck-remote}
repo=${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}

say() { printf 'elasticsearch: %s\n' "$*" >&2; }
fail() { printf 'elasticsearch: FAILED: %s\n' "$*" >&2; exit 1; }

# The OpenSAML/Shibboleth modules x-pack-security's module descriptor requires and nothing on Maven Central
# provides (org.opensaml.security comes from es-opensaml-security-api).
PLACEHOLDER_MODULES=(org.opensaml.core org.opensaml.saml org.opensaml.saml.impl org.opensaml.security.impl
  org.opensaml.xmlsec org.opensaml.xmlsec.impl net.shibboleth.utilities.java.support)

inputs_hash=$(cd "$here" && cat build.sh jars.lock $(find java -type f -name '*.java' | LC_ALL=C sort) | sha256sum | cut -c1-12)
home="$cache/elasticsearch/${ES_VERSION}-${inputs_hash}"
if [[ -f "$home/.stamp" && "$(cat "$home/.stamp")" == "$inputs_hash" ]]; then
  echo "$home"
  exit 0
fi

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else fail "need root to run: $*"; fi; }
if ! command -v javac >/dev/null || ! command -v jar >/dev/null || ! command -v mvn >/dev/null; then
  say "installing a JDK 17 and Maven with apt-get"
  as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >&2 \
    || fail "apt-get install openjdk-17-jdk-headless maven"
fi
java_major=$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')
[[ "$java_major" =~ ^[0-9]+$ && "$java_major" -ge 17 ]] || fail "javac 17 or newer is needed (found: $(javac -version 2>&1))"

started=$(date +%s)
mkdir -p "$cache/elasticsearch"
# Builds killed before their cleanup ran (SIGKILL) leave .build-* folders; an hour on, they are nobody's.
find "$cache/elasticsearch" -maxdepth 1 -name '.build-*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
tmp=$(mktemp -d "$cache/elasticsearch/.build-${ES_VERSION}-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Rows of jars.lock: sha256, destination, group:artifact:version.
mapfile -t rows < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/jars.lock")
jar_path() { local g a v; IFS=: read -r g a v <<<"$1"; echo "$repo/${g//.//}/$a/$v/$a-$v.jar"; }

missing=0
for row in "${rows[@]}"; do
  read -r _ _ coordinates <<<"$row"
  [[ -f "$(jar_path "$coordinates")" ]] || missing=$((missing + 1))
done
if (( missing > 0 )); then
  say "downloading $missing of ${#rows[@]} jars with Maven (about 70 MB on a cold cache)"
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local.ece-eck-remote</groupId><artifactId>elasticsearch-jars</artifactId><version>1</version>'
    echo '<packaging>pom</packaging><dependencies>'
    for row in "${rows[@]}"; do
      read -r _ _ coordinates <<<"$row"
      IFS=: read -r g a v <<<"$coordinates"
      # Each pinned jar alone: the lock already holds the whole resolved set.
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version>"
      echo '<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>'
    done
    echo '</dependencies></project>'
  } > "$tmp/pom.xml"
  (cd "$tmp" && mvn -B -q -Dmaven.repo.local="$repo" dependency:resolve >"$tmp/maven.log" 2>&1) \
    || { cat "$tmp/maven.log" >&2; fail "Maven could not download the Elasticsearch jars (see above)"; }
fi

say "laying out Elasticsearch $ES_VERSION in $home"
for row in "${rows[@]}"; do
  read -r sha destination coordinates <<<"$row"
  source_jar=$(jar_path "$coordinates")
  [[ -f "$source_jar" ]] || fail "$coordinates: not in $repo after the download"
  actual=$(sha256sum "$source_jar" | cut -d' ' -f1)
  [[ "$actual" == "$sha" ]] || fail "$coordinates: checksum mismatch ($source_jar has sha256 $actual, jars.lock pins $sha); if the download is damaged, delete that file and run again"
  mkdir -p "$tmp/home/$destination"
  cp "$source_jar" "$tmp/home/$destination/"
done

# Each module's descriptor (and entitlement policy) comes out of its plugin jar.
for module_dir in "$tmp"/home/modules/*/; do
  name=$(basename "$module_dir")
  (cd "$module_dir" && jar --extract --file "$name-$ES_VERSION.jar" "META-INF/es-plugins/$name/" \
    && mv "META-INF/es-plugins/$name"/* . && rm -rf META-INF && [[ -f plugin-descriptor.properties ]]) \
    || fail "no META-INF/es-plugins/$name/plugin-descriptor.properties in $name-$ES_VERSION.jar"
done

# Placeholders: empty automatic modules bearing the required names. With them, and the JVM flags
# -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote, x-pack-security loads (SAML does not work).
for module in "${PLACEHOLDER_MODULES[@]}"; do
  printf 'Automatic-Module-Name: %s\n' "$module" > "$tmp/manifest.txt"
  jar --create --file "$tmp/home/modules/x-pack-security/placeholder-$module.jar" --manifest "$tmp/manifest.txt"
done

# Our Java: the launcher and keystore tool (on -cp), and the analysis shim module.
classpath=$(find "$tmp/home/lib" "$tmp/home/modules" -name '*.jar' | LC_ALL=C sort | tr '\n' :)
mkdir -p "$tmp/home/launcher" "$tmp/shim" "$tmp/home/modules/analysis-shim" "$tmp/home/plugins"
javac -nowarn --release 17 -d "$tmp/home/launcher" -cp "$classpath" $(find "$here/java/launcher" -name '*.java') \
  || fail "javac of the launcher"
javac -nowarn --release 17 -d "$tmp/shim" -cp "$classpath" $(find "$here/java/analysis-shim" -name '*.java') \
  || fail "javac of the analysis shim"
jar --create --file "$tmp/home/modules/analysis-shim/analysis-shim.jar" -C "$tmp/shim" .
cat > "$tmp/home/modules/analysis-shim/plugin-descriptor.properties" <<EOF
description=pattern_capture and unique token filters, uax_url_email tokenizer (from Lucene), for the .security index
version=$ES_VERSION
name=analysis-shim
classname=eceeck.analysis.AnalysisShimPlugin
java.version=17
elasticsearch.version=$ES_VERSION
EOF

echo "$inputs_hash" > "$tmp/home/.stamp"
rm -rf "$home"
if ! mv -T "$tmp/home" "$home" 2>/dev/null; then
  # Another build finished first: fine if it left a complete home.
  [[ -f "$home/.stamp" && "$(cat "$home/.stamp")" == "$inputs_hash" ]] || fail "could not move the build into $home"
fi
say "built $home in $(( $(date +%s) - started ))s"
echo "$home"
