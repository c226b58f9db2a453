"""Isolated Python environments for the official Elasticsearch clients, outside the repository: one per major of
elasticsearch-py (8.x and 9.x cannot live in one environment), built from the pinned, hashed requirements in
tests/clients/es_py/requirements-<major>.txt with the Python that runs this module (the project's .venv: same
interpreter; `python -m venv --without-pip`, then this interpreter's pip installs into it with `--python`,
`--require-hashes`, `--no-deps`, wheels only).

    python -m tools.client_envs            # builds (or checks) both; prints each environment's python
    python -m tools.client_envs 8          # the 8.x one only

They live in `${ECE_ECK_CACHE:-~/.cache/ece-eck-remote}/client-envs/elasticsearch-<version>`. A finished build
leaves a stamp (the requirements' digest and the interpreter's version); with a matching stamp nothing is done,
so a second call takes milliseconds. A build goes to a temporary folder renamed into place when complete, under a
lock, so concurrent callers neither see a half-built environment nor build it twice."""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPOSITORY / "tests" / "clients" / "es_py"
MAJORS = ("8", "9")
STAMP = ".client-env-stamp"


class ClientEnvError(RuntimeError):
    """An environment that could not be built; the message carries pip's last output."""


def cache_root() -> Path:
    return Path(os.environ.get("ECE_ECK_CACHE") or Path.home() / ".cache" / "ece-eck-remote") / "client-envs"


def requirements_file(major: str) -> Path:
    return REQUIREMENTS / f"requirements-{major}.txt"


def pinned_version(major: str) -> str:
    """The `elasticsearch==X.Y.Z` pin of a requirements file."""
    text = requirements_file(major).read_text()
    match = re.search(r"^elasticsearch==(\S+)", text, re.MULTILINE)
    if match is None:
        raise ClientEnvError(f"{requirements_file(major)} pins no elasticsearch version")
    return match[1]


def environment_dir(major: str) -> Path:
    return cache_root() / f"elasticsearch-{pinned_version(major)}"


def _stamp(major: str) -> str:
    digest = hashlib.sha256(requirements_file(major).read_bytes()).hexdigest()
    return f"{digest} python {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def ensure(major: str) -> Path:
    """The python of the environment for elasticsearch-py `major` ("8" or "9"), built first if needed."""
    env = environment_dir(major)
    wanted = _stamp(major)
    if _stamp_of(env) == wanted:
        return python_of(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    with (env.parent / f".{env.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp_of(env) == wanted:  # another process built it while we waited
            return python_of(env)
        building = env.parent / f".{env.name}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        try:
            # No pip inside (ensurepip alone takes seconds): this interpreter's pip installs into it (`--python`).
            _run([sys.executable, "-m", "venv", "--without-pip", str(building)])
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(python_of(building)),
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--require-hashes",
                    "--only-binary=:all:",
                    "--no-deps",
                    "-r",
                    str(requirements_file(major)),
                ]
            )
            (building / STAMP).write_text(wanted)
            shutil.rmtree(env, ignore_errors=True)
            # `python -m venv` wrote absolute paths into the scripts in bin/; the environment is only used as
            # `<env>/bin/python -m ...` or `<env>/bin/python <script>`, which works from any folder.
            building.rename(env)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return python_of(env)


def _stamp_of(env: Path) -> str | None:
    try:
        stamp = (env / STAMP).read_text()
    except OSError:
        return None
    return stamp if python_of(env).exists() else None


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ClientEnvError(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.client_envs", description=__doc__.split("\n\n")[0])
    parser.add_argument("majors", nargs="*", help="8, 9 (default: both)")
    options = parser.parse_args(argv)
    unknown = set(options.majors) - set(MAJORS)
    if unknown:
        parser.error(f"no client environment for {sorted(unknown)}: choose from {', '.join(MAJORS)}")
    for major in options.majors or MAJORS:
        started = time.monotonic()
        python = ensure(major)
        print(f"elasticsearch-py {pinned_version(major)}: {python} ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
