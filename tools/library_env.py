"""A Python environment where `ece-eck-remote` is installed as a user of the library has it: a wheel built from this
repository, installed with pip with its declared dependencies (held to the versions requirements.txt pins, the ones the
Pulumi toolchain here runs). The example program `examples/library-program` runs in it.

    python -m tools.library_env        # builds (or finds) it; prints its python

It lives in `${ECE_ECK_CACHE:-~/.cache/ece-eck-remote}/library-env/<digest>`, the digest taken over the package's files,
pyproject.toml, requirements.txt and this builder: a change to the package makes a new one (the previous one is removed), an
unchanged package takes milliseconds (the last three are kept). The wheel is built from a copy of the package's files in a temporary folder, so
the build leaves nothing in the repository; pip fetches the pinned build backend (setuptools) from PyPI. A build goes
to a temporary folder renamed into place when complete, under a lock, like the client environments."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = REPOSITORY / "components"
INPUTS = ("pyproject.toml", "requirements.txt", "tools/library_env.py")
STAMP = ".library-env-stamp"
DISTRIBUTION = "ece-eck-remote"
IMPORT_NAME = "ece_eck_remote"
KEEP = 3
"""Environments kept: the newest ones (by the time they were built)."""


class LibraryEnvError(RuntimeError):
    """An environment that could not be built; the message carries pip's last output."""


def cache_root() -> Path:
    return Path(os.environ.get("ECE_ECK_CACHE") or Path.home() / ".cache" / "ece-eck-remote") / "library-env"


def package_files() -> list[Path]:
    """What goes into the wheel: the package's modules and its `py.typed` marker."""
    return sorted(
        path
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")
    )


def digest() -> str:
    hashed = hashlib.sha256(f"python {sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    for path in [*(REPOSITORY / name for name in INPUTS), *package_files()]:
        hashed.update(f"{path.relative_to(REPOSITORY)}\n".encode())
        hashed.update(path.read_bytes())
    return hashed.hexdigest()[:16]


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def build_wheel(target: Path) -> Path:
    """The wheel, built from a copy of pyproject.toml and the package (pip builds in the source folder)."""
    with tempfile.TemporaryDirectory(prefix="ece-eck-remote-src-") as source:
        shutil.copy(REPOSITORY / "pyproject.toml", Path(source) / "pyproject.toml")
        shutil.copytree(PACKAGE, Path(source) / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(target), source])
    wheels = sorted(target.glob(f"{IMPORT_NAME}-*.whl"))
    if len(wheels) != 1:
        raise LibraryEnvError(f"expected one wheel in {target}, found {[w.name for w in wheels]}")
    return wheels[0]


def ensure() -> Path:
    """The python of the environment for the package as it is now, built first if needed."""
    wanted = digest()
    env = cache_root() / wanted
    if (env / STAMP).exists() and python_of(env).exists():
        return python_of(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    with (env.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (env / STAMP).exists() and python_of(env).exists():  # another process built it while we waited
            return python_of(env)
        building = env.parent / f".{wanted}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        try:
            wheel = build_wheel(building.parent / f"{building.name}-wheel")
            # With pip inside: Pulumi's language host lists the environment's packages with it. The scripts in bin/
            # carry the temporary folder's path; the environment is only used as `<env>/bin/python`.
            _run([sys.executable, "-m", "venv", str(building)])
            _run(
                [
                    str(python_of(building)),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--only-binary=:all:",
                    "--constraint",
                    str(REPOSITORY / "requirements.txt"),
                    str(wheel),
                ]
            )
            (building / STAMP).write_text(f"{wanted}\n")
            building.rename(env)
            _prune(env.parent)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(building.parent / f"{building.name}-wheel", ignore_errors=True)
    return python_of(env)


def _prune(root: Path) -> None:
    """Keep the environments of the last few versions of the package (another checkout may be using one)."""
    built = sorted(
        (path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in built[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LibraryEnvError(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}")


def main() -> int:
    started = time.monotonic()
    python = ensure()
    print(f"{DISTRIBUTION}: {python} ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
