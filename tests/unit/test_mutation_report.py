"""The report of `make mutate` (tools/mutation.py): mutmut's results read from its meta files, equivalences applied,
the share killed, survivors re-tested, diffs. Pure functions; mutmut itself is not needed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import mutation
from tools.mutation import Figures, Mutant

PEM = "components/pem.py"
LINK = "components/link.py"


def meta(codes: dict[str, int | None]) -> dict:
    return {
        "exit_code_by_key": dict(codes),
        "hash_by_function_name": {},
        "type_check_error_by_key": {},
        "durations_by_key": {},
        "estimated_durations_by_key": {},
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (None, "pending"),
        (0, "survived"),
        (1, "killed"),
        (3, "killed"),
        (5, "no tests"),
        (33, "no tests"),
        (36, "timeout"),
        (-24, "timeout"),
        (24, "timeout"),
        (-9, "timeout"),
        (35, "suspicious"),
        (-11, "suspicious"),
        (2, "suspicious"),
        (99, "suspicious"),
    ],
)
def test_exit_codes_map_to_the_report_columns(code, status):
    assert mutation.status_of(code) == status


def test_results_are_read_per_source_file_and_a_missing_file_has_none(tmp_path: Path):
    (tmp_path / "components").mkdir()
    codes = {"components.pem.x_split_certificates__mutmut_1": 1, "components.pem.x__normalise__mutmut_2": 0}
    (tmp_path / f"{PEM}.meta").write_text(json.dumps(meta(codes)))

    found = mutation.load_results(tmp_path, [PEM, LINK])

    assert found == [
        Mutant("components.pem.x_split_certificates__mutmut_1", PEM, "killed"),
        Mutant("components.pem.x__normalise__mutmut_2", PEM, "survived"),
    ]


def test_what_a_new_test_could_change_is_reset_and_verdicts_of_killed_stay():
    data = meta({"m.x_a__mutmut_1": 0, "m.x_a__mutmut_2": 1, "m.x_a__mutmut_3": 33, "m.x_a__mutmut_4": -24})
    data["exit_code_by_key"]["m.x_b__mutmut_1"] = 35
    data["exit_code_by_key"]["m.x_b__mutmut_2"] = None

    reset = mutation.reset_for_retest(data)

    assert sorted(reset) == ["m.x_a__mutmut_1", "m.x_a__mutmut_3", "m.x_b__mutmut_1"]
    assert data["exit_code_by_key"] == {
        "m.x_a__mutmut_1": None,
        "m.x_a__mutmut_2": 1,
        "m.x_a__mutmut_3": None,
        "m.x_a__mutmut_4": -24,
        "m.x_b__mutmut_1": None,
        "m.x_b__mutmut_2": None,
    }


def test_reset_keeps_to_a_selection():
    data = meta({"m.x_a__mutmut_1": 0, "m.x_b__mutmut_1": 0, "n.x_a__mutmut_1": 0})

    assert mutation.reset_for_retest(data, ["m.x_b*", "n.x_a__mutmut_1"]) == ["m.x_b__mutmut_1", "n.x_a__mutmut_1"]
    assert data["exit_code_by_key"]["m.x_a__mutmut_1"] == 0


def test_equivalences_are_one_line_reasons_keyed_by_mutant_name():
    text = '[equivalent]\n"components.pem.x__normalise__mutmut_2" = "  same output for every block  "\n'
    assert mutation.parse_equivalents(text) == {"components.pem.x__normalise__mutmut_2": "same output for every block"}
    assert mutation.parse_equivalents("# nothing declared\n") == {}


@pytest.mark.parametrize(
    "text",
    [
        '[equivalent]\n"components.pem.x__normalise__mutmut_2" = ""\n',
        '[equivalent]\n"components.pem.x__normalise__mutmut_2" = "first\\nsecond"\n',
        '[equivalent]\n"components.pem.x__normalise__mutmut_2" = 3\n',
        '[equivalent]\n"components.pem._normalise" = "a function, not a mutant"\n',
        'equivalent = "not a table"\n',
    ],
)
def test_a_declaration_without_a_reason_or_a_mutant_is_refused(text):
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        mutation.parse_equivalents(text)


def test_tally_applies_equivalences_and_scores_the_non_equivalent_tested_mutants():
    mutants = [
        *(Mutant(f"components.pem.x_a__mutmut_{i}", PEM, "killed") for i in range(1, 7)),
        Mutant("components.pem.x_a__mutmut_7", PEM, "timeout"),
        Mutant("components.pem.x_a__mutmut_8", PEM, "survived"),
        Mutant("components.pem.x_a__mutmut_9", PEM, "survived"),  # declared equivalent
        Mutant("components.pem.x_a__mutmut_10", PEM, "pending"),
        Mutant("components.pem.x_a__mutmut_11", PEM, "killed"),  # declared equivalent, wrongly
        Mutant("components.link.x_b__mutmut_1", LINK, "no tests"),
    ]
    equivalents = {
        "components.pem.x_a__mutmut_9": "reason 9",
        "components.pem.x_a__mutmut_11": "reason 11",
        "components.pem.x_a__mutmut_99": "gone",
    }

    result = mutation.tally(mutants, equivalents, [PEM, LINK, "components/names.py"])

    pem = result.by_source[PEM]
    assert (pem.mutants, pem.killed, pem.timeout, pem.survived, pem.pending, pem.equivalent) == (11, 7, 1, 1, 1, 1)
    assert pem.tested == 9
    assert pem.score == pytest.approx(8 / 9)
    link = result.by_source[LINK]
    assert (link.mutants, link.no_tests, link.score) == (1, 1, 0.0)
    assert result.by_source["components/names.py"].score is None
    assert result.total.mutants == 12 and result.total.score == pytest.approx(8 / 10)
    assert [m.name for m in result.survivors] == ["components.pem.x_a__mutmut_8", "components.link.x_b__mutmut_1"]
    assert [(m.name, reason) for m, reason in result.equivalent] == [("components.pem.x_a__mutmut_9", "reason 9")]
    assert [m.name for m, _ in result.killed_but_declared] == ["components.pem.x_a__mutmut_11"]
    assert result.unknown_declarations == ["components.pem.x_a__mutmut_99"]


def test_the_score_counts_killed_and_timeouts_but_not_suspicious_survivors_or_no_tests():
    figures = Figures()
    for column in ["killed", "killed", "timeout", "suspicious", "survived", "no tests", "pending", "equivalent"]:
        figures.add(column)
    assert figures.mutants == 8 and figures.tested == 6
    assert figures.score == pytest.approx(3 / 6)
    assert Figures().score is None


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("components.pem.x__normalise__mutmut_2", "_normalise"),
        ("components.pem.x_split_certificates__mutmut_12", "split_certificates"),
        ("components.link.xǁEceEckLinkǁ__init____mutmut_3", "__init__"),
        ("components.ece.trust.xǁEceTrustProviderǁcreate__mutmut_40", "create"),
    ],
)
def test_the_original_function_is_named_from_the_mutant(name, function):
    assert mutation.original_function_name(name) == function


MUTATED = """\
import x


def x_add__mutmut_orig(a, b):
    total = a + b
    return total


def x_add__mutmut_1(a, b):
    total = a - b
    return total


class C:
    def xǁCǁget__mutmut_orig(self):
        return self.value

    def xǁCǁget__mutmut_1(self):
        return None

"""
SPANS = {
    "x_add__mutmut_orig": [4, 7],
    "x_add__mutmut_1": [9, 11],
    "xǁCǁget__mutmut_orig": [15, 17],
    "xǁCǁget__mutmut_1": [18, 19],
}


def test_a_diff_shows_the_mutation_under_the_original_name():
    diff = mutation.mutant_diff(MUTATED, SPANS, "components.pem.x_add__mutmut_1", PEM)

    assert diff.splitlines() == [
        f"--- {PEM}",
        f"+++ {PEM}",
        "@@ -1,3 +1,3 @@",
        " def add(a, b):",
        "-    total = a + b",
        "+    total = a - b",
        "     return total",
    ]


def test_a_diff_of_a_method_keeps_its_indentation():
    diff = mutation.mutant_diff(MUTATED, SPANS, "components.pem.xǁCǁget__mutmut_1", PEM)

    assert "-        return self.value" in diff.splitlines()
    assert "+        return None" in diff.splitlines()
    assert "     def get(self):" in diff.splitlines()


def test_a_missing_index_gives_the_command_that_shows_the_diff(tmp_path: Path):
    mutant = Mutant("components.pem.x_add__mutmut_1", PEM, "survived")
    assert (
        mutation.diff_of(tmp_path, mutant)
        == "(no diff: run `mutmut show components.pem.x_add__mutmut_1` in .local/mutation)"
    )


@pytest.mark.parametrize(
    ("target", "pattern"),
    [
        ("components/pem.py", "components.pem.*"),
        ("components/ece/trust.py", "components.ece.trust.*"),
        ("components.elasticsearch.roles", "components.elasticsearch.roles.*"),
        ("components.pem.x__normalise__mutmut_2", "components.pem.x__normalise__mutmut_2"),
        ("components.pem.x_split*", "components.pem.x_split*"),
    ],
)
def test_targets_become_mutmut_name_patterns(target, pattern):
    assert mutation.selection([target]) == [pattern]


def test_the_report_has_a_row_per_module_the_total_and_each_survivor_with_its_diff():
    mutants = [
        Mutant("components.pem.x_a__mutmut_1", PEM, "killed"),
        Mutant("components.pem.x_a__mutmut_2", PEM, "survived"),
        Mutant("components.pem.x_a__mutmut_3", PEM, "survived"),
    ]
    result = mutation.tally(mutants, {"components.pem.x_a__mutmut_3": "same bytes"}, [PEM, LINK])
    diffs = {"components.pem.x_a__mutmut_2": "-a\n+b", "components.pem.x_a__mutmut_3": "-c\n+d"}

    text = mutation.render_markdown(result, diffs, generated="then")
    lines = text.splitlines()

    assert f"| `{PEM}` | 3 | 1 | 0 | 0 | 1 | 0 | 0 | 1 | 50.0% |" in lines
    assert f"| `{LINK}` | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | n/a |" in lines
    assert "| **all** | 3 | 1 | 0 | 0 | 1 | 0 | 0 | 1 | 50.0% |" in lines
    survivors = lines.index("## Survivors (1)")
    assert lines[survivors + 2] == f"### `{PEM}` (1)"
    assert lines[survivors + 4] == "#### `components.pem.x_a__mutmut_2` (survived)"
    assert lines[survivors + 6 : survivors + 10] == ["```diff", "-a", "+b", "```"]
    assert f"### `{LINK}`" not in text
    equivalent = lines.index("### `components.pem.x_a__mutmut_3`")
    assert lines[equivalent + 2] == "same bytes"
    assert "## Equivalence declarations to fix" not in lines

    data = mutation.report_json(result, diffs, generated="then")
    assert data["modules"][PEM]["score"] == 0.5 and data["modules"][LINK]["score"] is None
    assert data["survivors"] == [
        {"name": "components.pem.x_a__mutmut_2", "source": PEM, "status": "survived", "diff": "-a\n+b"}
    ]
    assert data["equivalent"][0]["reason"] == "same bytes"


def test_the_scope_is_the_modules_that_guard_data_and_secrets():
    assert sorted(mutation.scope()) == [
        "components/ece/deployment_trust.py",
        "components/ece/keystore.py",
        "components/ece/retirement.py",
        "components/ece/trust.py",
        "components/ece/trust_group.py",
        "components/elasticsearch/api_key.py",
        "components/elasticsearch/connection_check.py",
        "components/elasticsearch/remote_settings.py",
        "components/elasticsearch/roles.py",
        "components/http.py",
        "components/link.py",
        "components/names.py",
        "components/pem.py",
        "components/validation.py",
    ]


def test_the_declared_equivalences_parse():
    mutation.parse_equivalents(mutation.EQUIVALENT_FILE.read_text())


def test_the_work_directory_links_to_what_mutmut_copies(tmp_path: Path):
    root = tmp_path / "project"
    (root / "components").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "README.md").write_text("readme")
    (root / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["components"]\nalso_copy = ["README.md"]\nonly_mutate = []\n'
    )
    work = root / ".local" / "mutation"
    work.mkdir(parents=True)
    (work / "README.md").symlink_to(tmp_path / "elsewhere")  # stale: replaced

    mutation.prepare_workdir(root, work)
    mutation.prepare_workdir(root, work)  # again: nothing to do

    assert sorted(path.name for path in work.iterdir()) == ["README.md", "components", "pyproject.toml", "tests"]
    for name in ["README.md", "components", "pyproject.toml", "tests"]:
        assert os.readlink(work / name) == f"../../{name}"
    assert (work / "README.md").read_text() == "readme"


def test_a_full_run_maps_every_test_again_and_keeps_the_verdicts(tmp_path: Path):
    (tmp_path / "mutmut-stats.json").write_text("{}")
    (tmp_path / "components").mkdir()
    (tmp_path / f"{PEM}.meta").write_text(json.dumps(meta({"components.pem.x_a__mutmut_1": 1})))

    mutation.forget_test_map(tmp_path)
    mutation.forget_test_map(tmp_path)  # nothing left to forget

    assert not (tmp_path / "mutmut-stats.json").exists()
    assert mutation.load_results(tmp_path, [PEM]) == [Mutant("components.pem.x_a__mutmut_1", PEM, "killed")]


def test_expired_deadlines_are_those_at_or_before_now():
    assert mutation.expired({7: 1.0, 8: 2.0, 9: 3.0}, 2.0) == [7, 8]
    assert mutation.expired({}, 2.0) == []


def wait_for(condition, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_child_past_its_deadline_gets_sigxcpu_as_from_mutmut():
    deadlines = mutation.Deadlines()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadlines.register(child.pid, 0.2)
        assert child.wait(timeout=10) == -signal.SIGXCPU
        assert wait_for(lambda: deadlines.pending() == 0)
    finally:
        child.kill()
        child.wait()


def test_a_child_that_exits_in_time_is_forgotten_and_never_signalled():
    deadlines = mutation.Deadlines()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    deadlines.register(child.pid, 3600)
    assert deadlines.pending() == 1
    assert child.wait(timeout=10) == 0
    assert wait_for(lambda: deadlines.pending() == 0)


def test_a_check_sees_the_live_tests_and_the_mutated_package(tmp_path: Path):
    root = tmp_path / "project"
    for name in ["components", "tests", "tools", ".git", ".local", ".venv"]:
        (root / name).mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    mutated = tmp_path / "mutants" / "components"
    mutated.mkdir(parents=True)

    mutation.link_checkout(tmp_path / "check", mutated=mutated, root=root)

    links = {path.name: Path(os.readlink(path)) for path in (tmp_path / "check").iterdir()}
    assert links == {
        "components": mutated,
        "pyproject.toml": root / "pyproject.toml",
        "tests": root / "tests",
        "tools": root / "tools",
    }


def test_copies_are_dropped_before_a_run_and_the_mutants_stay(tmp_path: Path):
    (tmp_path / "tests" / "contract").mkdir(parents=True)
    (tmp_path / "tests" / "contract" / "test_gone.py").write_text("")
    (tmp_path / "README.md").write_text("")
    (tmp_path / "components").mkdir()
    (tmp_path / f"{PEM}.meta").write_text("{}")

    mutation.drop_copies(tmp_path, ["tests", "README.md", "emulators"])

    assert sorted(path.name for path in tmp_path.iterdir()) == ["components"]
    assert (tmp_path / f"{PEM}.meta").exists()
