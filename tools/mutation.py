"""`make mutate`: mutation testing of the modules that guard data and secrets. Writes bench/mutation-report.md and
bench/mutation-report.json.

The tool is mutmut (pinned in requirements-mutate.txt; configured in pyproject.toml, `[tool.mutmut]`). It copies the
project into `.local/mutation/mutants/`, where every function of the modules in `only_mutate` carries its mutants
behind a trampoline; one stats run of tests/unit and tests/contract records which tests reach each function and how
long each takes; then each mutant runs in a forked child with only those tests, fastest first, stopping at the first
failure. Results are kept in `mutants/**/*.meta` by function: a function's mutants are tested again only when the
function's source changes.

This driver adds what the report needs around that:

1. Before a full run, mutants that were not killed (survived, no tests, suspicious) are marked unchecked, so every
   run tests them again: a test added or changed since may kill them. Killed and timed-out mutants stay cached. The
   map of tests to functions is rebuilt too (mutmut maps new tests by itself, but not changed ones).
2. `mutmut run` (all mutants, or a selection: then mutmut tests exactly those, cached or not).
3. The report: per module, the mutants, killed, timeout, suspicious, survived, no tests, still pending, declared
   equivalent (tests/mutation_equivalent.toml: mutant name = one-line reason), and the share killed of the
   non-equivalent mutants; then every survivor with its diff, and every equivalence with its diff and reason.

    python -m tools.mutation                                # every mutant, then the report
    python -m tools.mutation components/pem.py              # one module (or components.pem), then the report
    python -m tools.mutation components.pem.x__normalise__mutmut_2    # one mutant (or a glob of names)
    python -m tools.mutation --report-only                  # the report from the results as they are
    python -m tools.mutation --check MUTANT[,MUTANT...] TEST...   # which of the MUTANTs survive TEST? (see check())
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fcntl
import fnmatch
import importlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# mutmut works in ./mutants of the directory it runs in. It runs in .local/mutation, whose entries are links to the
# project's, so its copy stays out of mypy's and ruff's way (a second `components` package) and out of git.
WORK = ROOT / ".local" / "mutation"
MUTANTS = WORK / "mutants"
REPORT_DIR = ROOT / "bench"
EQUIVALENT_FILE = ROOT / "tests" / "mutation_equivalent.toml"
TARGET = 0.90
CLASS_SEPARATOR = "ǁ"  # mutmut's separator in the mangled names of methods: xǁClassǁmethod

# mutmut's exit codes (mutmut.stats.status_by_exit_code), folded into the report's columns. Any other code is
# "suspicious", as in mutmut. 1 is a failing test; 3 an internal error of pytest, which mutmut counts as a kill.
STATUS_BY_EXIT_CODE: dict[int | None, str] = {
    None: "pending",
    0: "survived",
    1: "killed",
    3: "killed",
    37: "killed",  # caught by the type checker (not configured here)
    5: "no tests",
    33: "no tests",
    36: "timeout",
    24: "timeout",  # SIGXCPU: the CPU or wall-clock limit
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    -9: "timeout",  # SIGKILL one second after the CPU limit
}
COLUMNS = ("killed", "timeout", "suspicious", "survived", "no tests", "pending", "equivalent")
# Verdicts a later run may change without the function's source changing: tested again on every full run.
RETESTED = frozenset({"survived", "no tests", "suspicious"})


def status_of(exit_code: int | None) -> str:
    return STATUS_BY_EXIT_CODE.get(exit_code, "suspicious")


@dataclass(frozen=True)
class Mutant:
    name: str  # components.pem.x__normalise__mutmut_2
    source: str  # components/pem.py
    status: str


def module_of(source: str) -> str:
    """components/ece/trust.py -> components.ece.trust (the prefix of its mutants' names)."""
    return source.removesuffix(".py").replace("/", ".")


def parse_meta(source: str, meta: Mapping[str, Any]) -> list[Mutant]:
    """The mutants of one source file from its `mutants/<source>.meta`."""
    codes: Mapping[str, int | None] = meta["exit_code_by_key"]
    return [Mutant(name, source, status_of(code)) for name, code in codes.items()]


def load_results(mutants_dir: Path, sources: Iterable[str]) -> list[Mutant]:
    """Every mutant of the given source files, with its current status (none for a file not generated yet)."""
    found: list[Mutant] = []
    for source in sources:
        meta_path = mutants_dir / f"{source}.meta"
        if meta_path.exists():
            found += parse_meta(source, read_json(meta_path))
    return found


def read_json(path: Path, attempts: int = 20) -> Any:
    """A file mutmut may be rewriting (a report while it runs): read again until it parses."""
    for _ in range(attempts - 1):
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            time.sleep(0.05)
    return json.loads(path.read_text())


def reset_for_retest(meta: dict[str, Any], selected: Sequence[str] = ()) -> list[str]:
    """Mark the mutants whose verdict a new test could change as unchecked, in place; returns their names. With
    `selected` (names or globs), only those."""
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    reset = [
        name
        for name, code in codes.items()
        if code is not None and status_of(code) in RETESTED and (not selected or matches(name, selected))
    ]
    for name in reset:
        codes[name] = None
    return reset


def matches(name: str, patterns: Sequence[str]) -> bool:
    return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def parse_equivalents(text: str) -> dict[str, str]:
    """`[equivalent]` of tests/mutation_equivalent.toml: mutant name -> a one-line reason, never empty."""
    table = tomllib.loads(text).get("equivalent", {})
    if not isinstance(table, dict):
        raise ValueError("[equivalent] must be a table of mutant name = reason")
    equivalents: dict[str, str] = {}
    for name, reason in table.items():
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise ValueError(f"{name}: the reason must be one non-empty line")
        if "__mutmut_" not in name:
            raise ValueError(f"{name}: not a mutant name (module.x_function__mutmut_N)")
        equivalents[name] = reason.strip()
    return equivalents


@dataclass
class Figures:
    mutants: int = 0
    killed: int = 0
    timeout: int = 0
    suspicious: int = 0
    survived: int = 0
    no_tests: int = 0
    pending: int = 0
    equivalent: int = 0

    def add(self, column: str) -> None:
        attribute = column.replace(" ", "_")
        setattr(self, attribute, getattr(self, attribute) + 1)
        self.mutants += 1

    @property
    def tested(self) -> int:
        """Non-equivalent mutants with a verdict: the denominator of the score."""
        return self.mutants - self.equivalent - self.pending

    @property
    def score(self) -> float | None:
        """Killed (a test failed, or the tests ran past the time limit) of the non-equivalent tested mutants."""
        return (self.killed + self.timeout) / self.tested if self.tested else None


@dataclass
class Tally:
    by_source: dict[str, Figures]
    total: Figures
    survivors: list[Mutant] = field(default_factory=list)  # survived, no tests or suspicious; not equivalent
    equivalent: list[tuple[Mutant, str]] = field(default_factory=list)
    killed_but_declared: list[tuple[Mutant, str]] = field(default_factory=list)  # the declaration is wrong
    unknown_declarations: list[str] = field(default_factory=list)  # no such mutant (renumbered or removed)


def tally(mutants: Iterable[Mutant], equivalents: Mapping[str, str], sources: Iterable[str]) -> Tally:
    """Count per source file. A declared equivalence applies to a mutant no test killed; a killed mutant declared
    equivalent is counted as killed and listed, as is a declaration that names no mutant."""
    result = Tally(by_source={source: Figures() for source in sources}, total=Figures())
    seen: set[str] = set()
    for mutant in mutants:
        seen.add(mutant.name)
        column = mutant.status
        reason = equivalents.get(mutant.name)
        if reason is not None:
            if column in ("killed", "timeout"):
                result.killed_but_declared.append((mutant, reason))
            else:
                column = "equivalent"
                result.equivalent.append((mutant, reason))
        if column in ("survived", "no tests", "suspicious"):
            result.survivors.append(mutant)
        result.by_source.setdefault(mutant.source, Figures()).add(column)
        result.total.add(column)
    result.unknown_declarations = sorted(set(equivalents) - seen)
    return result


def original_function_name(mutant_name: str) -> str:
    """components.link.xǁLinkǁcreate__mutmut_3 -> create; components.pem.x__normalise__mutmut_2 -> _normalise."""
    mangled = mutant_name.rpartition(".")[2].partition("__mutmut_")[0]
    if CLASS_SEPARATOR in mangled:
        return mangled.rpartition(CLASS_SEPARATOR)[2]
    return mangled.removeprefix("x_")


def mutant_diff(mutated_source: str, spans: Mapping[str, Sequence[int]], mutant_name: str, source: str) -> str:
    """The unified diff between the original function and the mutant, read out of the mutated file by the line spans
    mutmut records beside it (`<file>.spans`: generated function name -> [first, last] line, 1-based)."""
    generated = mutant_name.rpartition(".")[2]
    original = generated.partition("__mutmut_")[0] + "__mutmut_orig"
    lines = mutated_source.splitlines()
    name = original_function_name(mutant_name)

    def function(generated_name: str) -> list[str]:
        first, last = spans[generated_name]
        body = lines[first - 1 : last]
        while body and not body[-1].strip():
            body.pop()
        return [line.replace(f"def {generated_name}(", f"def {name}(", 1) for line in body]

    return "\n".join(difflib.unified_diff(function(original), function(generated), source, source, lineterm=""))


def diff_of(mutants_dir: Path, mutant: Mutant) -> str:
    spans_path = mutants_dir / f"{mutant.source}.spans"
    try:
        spans = json.loads(spans_path.read_text())["spans"]
        return mutant_diff((mutants_dir / mutant.source).read_text(), spans, mutant.name, mutant.source)
    except (OSError, KeyError, ValueError):
        return f"(no diff: run `mutmut show {mutant.name}` in .local/mutation)"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_markdown(result: Tally, diffs: Mapping[str, str], *, generated: str) -> str:
    head = (
        "| module | mutants | killed | timeout | suspicious | survived | no tests | pending | equivalent | killed % |"
    )
    rows = [head, "|" + "---|" * 10]

    def row(label: str, figures: Figures) -> str:
        cells = [figures.mutants, *(getattr(figures, column.replace(" ", "_")) for column in COLUMNS)]
        return f"| {label} | " + " | ".join(str(cell) for cell in cells) + f" | {percent(figures.score)} |"

    rows += [row(f"`{source}`", figures) for source, figures in result.by_source.items()]
    rows.append(row("**all**", result.total))
    out = [
        "# Mutation testing",
        "",
        f"Produced by `make mutate` (mutmut, tests/unit and tests/contract) on {generated}.",
        "",
        "killed % = (killed + timeout) / (mutants - equivalent - pending): the share of the non-equivalent mutants "
        f"with a verdict that a test caught. Target: {percent(TARGET)} per module. Equivalent mutants are declared in "
        "`tests/mutation_equivalent.toml` (mutant name = reason).",
        "",
        "Again, for one module or one mutant: `make mutate MUTATE=components/pem.py` or `make mutate "
        "MUTATE=<mutant name>`. Whether a test kills a survivor, without recording anything: "
        "`.venv/bin/python -m tools.mutation --check <mutant name> <pytest node id>...`.",
        "",
        *rows,
        "",
    ]
    if result.killed_but_declared or result.unknown_declarations:
        out += ["## Equivalence declarations to fix", ""]
        out += [
            f"- `{m.name}` is killed, yet declared equivalent ({reason})" for m, reason in result.killed_but_declared
        ]
        out += [
            f"- `{name}` names no mutant (renumbered after a change, or gone)" for name in result.unknown_declarations
        ]
        out.append("")
    out += [f"## Survivors ({len(result.survivors)})", ""]
    if not result.survivors:
        out += ["None.", ""]
    for source in result.by_source:
        survivors = [mutant for mutant in result.survivors if mutant.source == source]
        if survivors:
            out += [f"### `{source}` ({len(survivors)})", ""]
        for mutant in survivors:
            out += [f"#### `{mutant.name}` ({mutant.status})", "", "```diff", diffs.get(mutant.name, ""), "```", ""]
    out += [f"## Equivalent ({len(result.equivalent)})", ""]
    if not result.equivalent:
        out += ["None declared.", ""]
    for mutant, reason in result.equivalent:
        out += [f"### `{mutant.name}`", "", reason, "", "```diff", diffs.get(mutant.name, ""), "```", ""]
    return "\n".join(out)


def report_json(result: Tally, diffs: Mapping[str, str], *, generated: str) -> dict[str, Any]:
    def figures(f: Figures) -> dict[str, Any]:
        return {**asdict(f), "score": f.score}

    return {
        "generated": generated,
        "target": TARGET,
        "modules": {source: figures(f) for source, f in result.by_source.items()},
        "total": figures(result.total),
        "survivors": [
            {"name": m.name, "source": m.source, "status": m.status, "diff": diffs.get(m.name, "")}
            for m in result.survivors
        ],
        "equivalent": [
            {"name": m.name, "source": m.source, "reason": reason, "diff": diffs.get(m.name, "")}
            for m, reason in result.equivalent
        ],
        "killed_but_declared_equivalent": [m.name for m, _ in result.killed_but_declared],
        "unknown_declarations": result.unknown_declarations,
    }


# --- the run ----------------------------------------------------------------------------------------------------


def forget_test_map(mutants_dir: Path) -> None:
    """mutmut maps new tests to the functions they reach, but never re-maps a test that changed. Without its stats
    file it maps every test again in one run of the tests (the verdicts, kept in the .meta files, stay). The file
    also holds its record of the configuration: after changing the timeouts or the test selection in
    `[tool.mutmut]`, delete .local/mutation/mutants to test everything again."""
    (mutants_dir / "mutmut-stats.json").unlink(missing_ok=True)


def drop_copies(mutants_dir: Path, entries: Iterable[str]) -> None:
    """mutmut copies tests/ and also_copy into mutants/ on every run, over what is there, so a file deleted from the
    project would stay (a removed test would still run). Deleting the copies first makes each run's copy exact; the
    mutated package and the results, in mutants/components, stay."""
    for entry in entries:
        path = mutants_dir / entry
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def mutmut_config(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return config


def scope(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The mutated modules: `only_mutate` of `[tool.mutmut]`."""
    only: list[str] = mutmut_config(pyproject)["only_mutate"]
    return only


def selection(targets: Sequence[str]) -> list[str]:
    """Command-line targets as mutmut name patterns: a module file or dotted module -> all its mutants."""
    patterns = []
    for target in targets:
        if "__mutmut_" in target or "*" in target:
            patterns.append(target)
        else:
            patterns.append(module_of(target) + ".*")
    return patterns


def mark_for_retest(sources: Iterable[str], selected: Sequence[str]) -> int:
    count = 0
    for source in sources:
        meta_path = MUTANTS / f"{source}.meta"
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        reset = reset_for_retest(meta, selected)
        if reset:
            meta_path.write_text(json.dumps(meta, indent=4))
            count += len(reset)
    return count


def prepare_workdir(root: Path = ROOT, work: Path = WORK) -> None:
    """.local/mutation: a link to each project entry mutmut reads (the sources, the tests, what also_copy names,
    pyproject.toml); mutmut copies them into its mutants/ there."""
    config = mutmut_config(root / "pyproject.toml")
    entries = {"pyproject.toml", "tests", *config["source_paths"], *config.get("also_copy", [])}
    work.mkdir(parents=True, exist_ok=True)
    for entry in sorted(entries):
        link = work / entry
        target = Path(os.path.relpath(root / entry, link.parent))
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)


def mutant_environment(mutant: str) -> dict[str, str]:
    env = dict(os.environ)
    # tests/support/specs.py finds ../shared/specs from its own path, which is deeper under .local/mutation/mutants.
    env.setdefault("ECE_ECK_SPECS", str(ROOT.parent / "shared" / "specs"))
    env["MUTANT_UNDER_TEST"] = mutant  # the trampolines call this mutant; "" calls the original functions
    return env


class Deadlines:
    """The wall-clock limit of each mutant's child, as mutmut's `register_timeout` (mutmut.workers.timeout) sets it,
    without its hazard: mutmut keeps (deadline, pid) until the deadline and then signals that pid, though the child
    finished long before. Here the tests' threads (an HTTP server thread per connection) use up process ids fast
    enough that they are reused within a deadline, so mutmut would send SIGXCPU to whatever process holds the number
    then: one of its own children, recorded as a false timeout, or anyone else's process on the machine. This holds a
    pidfd per child instead (it names the process, not the number), signals through it, and drops it when the child
    exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[int, float] = {}  # pidfd -> time.monotonic() deadline
        self._wake_read, self._wake_write = os.pipe()
        self._thread: threading.Thread | None = None

    def register(self, pid: int, timeout_s: float) -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # gone and reaped already
            return
        with self._lock:
            self._deadlines[pidfd] = time.monotonic() + timeout_s
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="mutant-deadlines", daemon=True)
                self._thread.start()
        os.write(self._wake_write, b".")

    def pending(self) -> int:
        with self._lock:
            return len(self._deadlines)

    def _watch(self) -> None:
        while True:
            with self._lock:
                deadlines = dict(self._deadlines)
            now = time.monotonic()
            for pidfd in expired(deadlines, now):
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(pidfd, signal.SIGXCPU)
                self._drop(pidfd)
                del deadlines[pidfd]
            poller = select.poll()
            poller.register(self._wake_read, select.POLLIN)
            for pidfd in deadlines:
                poller.register(pidfd, select.POLLIN)  # readable once the process has exited
            wait_ms = max(0, 1 + int(1000 * (min(deadlines.values()) - now))) if deadlines else None
            for fd, _ in poller.poll(wait_ms):
                if fd == self._wake_read:
                    os.read(self._wake_read, 4096)
                else:
                    self._drop(fd)

    def _drop(self, pidfd: int) -> None:
        with self._lock:
            if self._deadlines.pop(pidfd, None) is not None:
                os.close(pidfd)


def expired(deadlines: Mapping[int, float], now: float) -> list[int]:
    return sorted(key for key, deadline in deadlines.items() if deadline <= now)


def mutmut_cli(argv: Sequence[str]) -> None:
    """mutmut's command line, with `Deadlines` in place of its register_timeout. Runs in .local/mutation (mutmut's
    working directory), where `tools` is a link to the project's."""
    deadlines = Deadlines()
    for module in ("mutmut.workers.timeout", "mutmut.workers.isolation"):
        setattr(importlib.import_module(module), "register_timeout", deadlines.register)  # noqa: B010
    importlib.import_module("mutmut.__main__").cli(args=list(argv), prog_name="mutmut")


def run_mutmut(patterns: Sequence[str], max_children: int) -> None:
    env = mutant_environment("")
    del env["MUTANT_UNDER_TEST"]  # mutmut sets it itself
    command = [sys.executable, "-m", "tools.mutation", "--mutmut", "run", "--max-children", str(max_children)]
    command += patterns
    print("+", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=WORK, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"mutmut run failed ({done.returncode})")


def check(mutants: Sequence[str], tests: Sequence[str]) -> list[str]:
    """Which of `mutants` survive `tests` (pytest node ids under tests/): the tests must pass on the original code
    (else SystemExit), and a mutant is killed when they fail with it. They run as they are in tests/ (a new test
    needs nothing else) against the mutated package of the last `make mutate`, from a directory of links of its own
    (.local/mutation/check-<pid>: `components` to the mutated copy, the rest to the project), and nothing is
    recorded: neither the project's files nor mutmut's results change, so it can run while `make mutate` does. The
    next full run re-tests every survivor and records the verdict."""
    if not (MUTANTS / "components").is_dir():
        raise SystemExit("no mutants yet: run `make mutate` first")
    scratch = WORK / f"check-{os.getpid()}"
    survivors = []
    try:
        link_checkout(scratch, mutated=MUTANTS / "components")
        command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--rootdir=.", *tests]
        for under_test in ("", *mutants):
            print("+", f"MUTANT_UNDER_TEST={under_test}", " ".join(command), flush=True)
            done = subprocess.run(command, cwd=scratch, env=mutant_environment(under_test), check=False)
            if done.returncode not in (0, 1):
                raise SystemExit(f"pytest could not run the tests ({done.returncode})")
            if not under_test:
                if done.returncode != 0:
                    raise SystemExit("the tests fail on the original code")
            elif done.returncode == 0:
                survivors.append(under_test)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for mutant in mutants:
        print(f"{mutant}: {'survives these tests' if mutant in survivors else 'killed'}")
    return survivors


def link_checkout(scratch: Path, *, mutated: Path, root: Path = ROOT) -> None:
    """A directory that looks like the project, each entry a link to the project's, but `components` to `mutated`."""
    scratch.mkdir(parents=True)
    for entry in sorted(root.iterdir()):
        if entry.name in {".git", ".local", ".venv", "mutants"}:
            continue
        (scratch / entry.name).symlink_to(mutated if entry.name == "components" else entry)


def write_report(sources: Sequence[str]) -> Tally:
    equivalents = parse_equivalents(EQUIVALENT_FILE.read_text()) if EQUIVALENT_FILE.exists() else {}
    result = tally(load_results(MUTANTS, sources), equivalents, sources)
    shown = result.survivors + [m for m, _ in result.equivalent]
    diffs = {m.name: diff_of(MUTANTS, m) for m in shown}
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    REPORT_DIR.mkdir(exist_ok=True)
    (REPORT_DIR / "mutation-report.md").write_text(render_markdown(result, diffs, generated=generated))
    (REPORT_DIR / "mutation-report.json").write_text(
        json.dumps(report_json(result, diffs, generated=generated), indent=2, ensure_ascii=False) + "\n"
    )
    return result


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--mutmut"]:
        mutmut_cli(argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="module files, dotted modules, mutant names or globs (default: all)")
    parser.add_argument("--max-children", type=int, default=4 * (os.cpu_count() or 2))
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--check", metavar="MUTANT[,MUTANT...]", help="only say whether the tests given as targets kill each MUTANT"
    )
    args = parser.parse_args(argv)
    if args.check:
        raise SystemExit(1 if check(args.check.split(","), args.targets) else 0)
    sources = scope()
    if not args.report_only:
        prepare_workdir()
        with open(WORK / "run.lock", "w") as lock:
            try:  # two runs would write the same results; a --check needs no lock
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SystemExit("another `make mutate` is running in this tree (.local/mutation/run.lock)") from None
            patterns = selection(args.targets)
            if not patterns:  # a selection is tested again anyway; a full run only tests what has no verdict
                print(f"{mark_for_retest(sources, patterns)} mutants not killed last time will be tested again")
                forget_test_map(MUTANTS)
            drop_copies(MUTANTS, ["tests", *mutmut_config().get("also_copy", [])])
            run_mutmut(patterns, args.max_children)
    result = write_report(sources)
    for source, figures in [*result.by_source.items(), ("all", result.total)]:
        print(
            f"{source:48} {figures.mutants:5} mutants  {figures.survived:4} survived  {percent(figures.score):>6} killed"
        )
    print(f"report: {(REPORT_DIR / 'mutation-report.md').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
