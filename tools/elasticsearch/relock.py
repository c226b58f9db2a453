"""Regenerates tools/elasticsearch/jars.lock: which jar goes where in the Elasticsearch home, with its SHA-256.

    python3 tools/elasticsearch/relock.py [VERSION]      # run after changing the version; review the diff

For the server and each module it asks Maven (`dependency:list`, runtime scope) for the resolved set, then lays
them out as the distribution does: lib/ gets the server's set; each module gets its own set minus what lib/ has
(x-pack-security also minus its extended plugin x-pack-core); OpenSAML and Shibboleth are excluded (not on Maven
Central; build.sh puts placeholders in their stead) and the jar-hell duplicates in DROPPED are left out. The
checksums are those of the jars Maven downloaded into its local repository. Nothing is written but the lock.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "jars.lock"
SERVER = ("org.elasticsearch", "elasticsearch")
MODULES = {  # destination folder -> (artifact, extended plugin folder or None)
    "modules/transport-netty4": (("org.elasticsearch.plugin", "transport-netty4"), None),
    "modules/x-pack-core": (("org.elasticsearch.plugin", "x-pack-core"), None),
    "modules/x-pack-security": (("org.elasticsearch.plugin", "x-pack-security"), "modules/x-pack-core"),
}
EXCLUDED_GROUPS = ("org.opensaml", "net.shibboleth.utilities")
DROPPED = {("com.github.stephenc.jcip", "jcip-annotations"), ("jakarta.activation", "jakarta.activation-api")}
HEADER = """\
# Jars of Elasticsearch {version} and where build.sh lays them out, with their SHA-256 (from Maven Central).
# Columns: sha256, destination folder in the Elasticsearch home, groupId:artifactId:version.
# Made from the runtime dependency sets of the server and of each module (`mvn dependency:list`), each module
# without what lib/ (or, for x-pack-security, its extended plugin x-pack-core) already has, OpenSAML and
# Shibboleth left out (not on Maven Central; placeholders stand in), and two jar-hell duplicates dropped
# (com.github.stephenc.jcip:jcip-annotations beside net.jcip's; jakarta.activation-api beside
# com.sun.activation:jakarta.activation). Regenerate with `tools/elasticsearch/relock.py` after a version change.
"""

Coordinates = tuple[str, str, str]


def repository() -> Path:
    return Path(os.environ.get("MAVEN_REPO_LOCAL", Path.home() / ".m2" / "repository"))


def resolve(group: str, artifact: str, version: str) -> list[Coordinates]:
    exclusions = "".join(
        f"<exclusion><groupId>{excluded}</groupId><artifactId>*</artifactId></exclusion>"
        for excluded in EXCLUDED_GROUPS
    )
    pom = (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>local</groupId><artifactId>relock-{artifact}</artifactId><version>1</version><packaging>pom</packaging>"
        f"<dependencies><dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>"
        f"<exclusions>{exclusions}</exclusions></dependency></dependencies></project>"
    )
    with tempfile.TemporaryDirectory(prefix="relock-") as directory:
        Path(directory, "pom.xml").write_text(pom)
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                f"-Dmaven.repo.local={repository()}",
                "dependency:list",
                "-DincludeScope=runtime",
                "-DoutputFile=list.txt",
            ],
            cwd=directory,
            check=True,
        )
        listing = Path(directory, "list.txt").read_text()
    found = re.findall(r"^\s+([^:\s]+):([^:]+):jar:([^:]+):\w+", listing, re.MULTILINE)
    return [(g, a, v) for g, a, v in found]


def sha256(coordinates: Coordinates) -> str:
    group, artifact, version = coordinates
    path = repository() / group.replace(".", "/") / artifact / version / f"{artifact}-{version}.jar"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(version: str) -> None:
    sets = {"lib": resolve(*SERVER, version)}
    for destination, (coordinates, _) in MODULES.items():
        sets[destination] = resolve(*coordinates, version)
    rows: list[tuple[str, Coordinates]] = []
    for destination, resolved in sets.items():
        extended = MODULES[destination][1] if destination in MODULES else None
        provided = {(g, a) for g, a, _ in sets["lib"]} if destination != "lib" else set()
        if extended is not None:
            provided |= {(g, a) for g, a, _ in sets[extended]}
        rows.extend(
            (destination, (g, a, v)) for g, a, v in sorted(resolved) if (g, a) not in provided and (g, a) not in DROPPED
        )
    lines = [f"{sha256(coordinates)}  {destination}  {':'.join(coordinates)}" for destination, coordinates in rows]
    LOCK.write_text(HEADER.format(version=version) + "\n".join(lines) + "\n")
    print(f"wrote {len(lines)} jars to {LOCK}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "8.19.21")
