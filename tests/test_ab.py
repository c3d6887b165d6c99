"""`tf2bench ab`: revisions, environments, bad inputs, and two real revisions end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tf2bench.harness import revisions

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=tf2bench-test", "-c", "user.email=test@example.com"]
TINY_SELECTION = ["-k", "(op_granularity and cpu and many_small_ops and eager) or only_in_head"]
FEWEST_ROUNDS = ["--benchmark-max-time=0.05"]  # pytest-benchmark's 5 rounds at least


def cli(*args, cwd, env=None, timeout=900, **kwargs):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tf2bench.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A clone of this checkout's HEAD plus a commit that adds a benchmark (to tell trees apart)."""
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    added = clone / "benchmarks" / "test_only_in_head.py"
    added.write_text("def test_only_in_head(benchmark):\n    benchmark(sum, range(10))\n")
    git(clone, "add", str(added))
    git(clone, "commit", "-q", "-m", "test change")
    return clone


def worktree_count(repo: Path) -> int:
    return git(repo, "worktree", "list", "--porcelain").count("worktree ")


def assert_no_worktree_left(repo: Path, cache: Path) -> None:
    assert worktree_count(repo) == 1
    assert not (cache / "ab").exists() or not any((cache / "ab").iterdir())


def commit_pyproject(repo: Path, text: str) -> None:
    (repo / "pyproject.toml").write_text(text)
    git(repo, "commit", "-q", "-am", "pyproject change")


def test_satisfied_reads_the_installed_distributions():
    pytest_version = __import__("pytest").__version__
    assert revisions.satisfied({"dependencies": [f"pytest=={pytest_version}"]})
    assert revisions.satisfied({"dependencies": ["pytest>=1", "numpy"]})
    assert not revisions.satisfied({"dependencies": ["pytest>=9999"]})
    assert not revisions.satisfied({"dependencies": ["tf2bench-no-such-distribution"]})
    assert not revisions.satisfied({"dependencies": [], "requires-python": ">=99"})
    # A requirement whose marker does not apply here is not needed.
    assert revisions.satisfied({"dependencies": ['no-such-dist; python_version < "3"']})


def test_spec_key_follows_the_dependency_spec():
    spec = {"dependencies": ["a>=1", "b"], "requires-python": ">=3.10"}
    assert revisions.spec_key(spec) == revisions.spec_key(dict(spec))
    assert revisions.spec_key(spec) != revisions.spec_key({**spec, "dependencies": ["a>=2", "b"]})


def test_a_satisfied_spec_reuses_this_interpreter_and_builds_no_venv(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_text('[project]\nname="x"\ndependencies=["pytest>=1"]\n')
    log = tmp_path / "log"
    python = revisions.environment_for(tree, "base x", tmp_path / "cache", log)
    assert python == sys.executable
    assert not (tmp_path / "cache" / "venvs").exists()


def test_an_unsatisfied_spec_uses_its_cached_venv(tmp_path):
    spec = {"dependencies": ["tf2bench-no-such-distribution>=1"], "requires-python": None}
    venv_python = tmp_path / "venvs" / revisions.spec_key(spec) / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")  # stands in for a venv built by an earlier call
    assert revisions._cached_venv(spec, "head x", tmp_path, tmp_path / "log") == str(venv_python)


def test_dependency_spec_of_a_broken_pyproject_is_a_one_line_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname=")
    with pytest.raises(revisions.UsageError, match="does not install") as error:
        revisions.dependency_spec(tmp_path, "head abc")
    assert "\n" not in str(error.value)


def test_an_unknown_revision_is_one_line_exit_2_and_no_worktree(repo, tmp_path):
    cache = tmp_path / "cache"
    result = cli(
        "ab", "no-such-rev", "HEAD", "--out", str(tmp_path / "o"), "--cache", str(cache), cwd=repo
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "'no-such-rev'" in result.stderr
    assert_no_worktree_left(repo, cache)


@pytest.mark.slow
def test_a_dirty_tree_is_one_line_exit_2_and_no_worktree(repo, tmp_path):
    cache = tmp_path / "cache"
    (repo / "README.md").write_text("edited\n")
    result = cli(
        "ab", "HEAD~1", "HEAD", "--out", str(tmp_path / "o"), "--cache", str(cache), cwd=repo
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "uncommitted" in result.stderr
    assert_no_worktree_left(repo, cache)


@pytest.mark.slow
def test_a_revision_with_a_broken_pyproject_does_not_install(repo, tmp_path):
    cache = tmp_path / "cache"
    commit_pyproject(repo, "[project\n")
    result = cli(
        "ab", "HEAD~1", "HEAD", "--out", str(tmp_path / "o"), "--cache", str(cache), cwd=repo
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "does not install" in result.stderr
    assert_no_worktree_left(repo, cache)


@pytest.mark.slow
def test_a_revision_whose_dependencies_cannot_install_leaves_no_venv(repo, tmp_path):
    cache = tmp_path / "cache"
    text = (repo / "pyproject.toml").read_text()
    commit_pyproject(repo, text.replace('"numpy>=1.26",', '"tf2bench-no-such-distribution>=1",'))
    result = cli(
        "ab", "HEAD~1", "HEAD", "--out", str(tmp_path / "o"), "--cache", str(cache),
        cwd=repo, env={"PIP_NO_INDEX": "1"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "does not install" in result.stderr
    assert_no_worktree_left(repo, cache)
    assert not any((cache / "venvs").iterdir())


@pytest.mark.slow
def test_ab_measures_two_real_revisions_in_pairs_sharing_a_cpu(repo, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    result = cli(
        "ab", "HEAD~1", "HEAD", "--preset", "quick", "--processes", "2", "--family", "execution",
        "--out", str(out), "--cache", str(cache),
        "--threshold", "0", "--recheck", "1", "--recheck-pairs", "2",
        "--", *TINY_SELECTION, *FEWEST_ROUNDS,
        cwd=repo,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]
    done = sorted(
        line.split(" done")[0] for line in result.stdout.splitlines() if "done on CPU" in line
    )
    # Two pairs, then (with a threshold of 0 every change is a candidate) two fresh pairs of
    # the one benchmark both sides have.
    assert done == ["pair 1/2", "pair 1/2", "pair 2/2", "pair 2/2"], result.stdout
    assert "recheck: the 1 likeliest changes in 2 fresh pairs" in result.stdout
    rechecked = json.loads((out / "recheck" / "head.json").read_text())["benchmarks"]
    assert [b["name"] for b in rechecked] == ["test_op_granularity[cpu-many_small_ops-eager]"]
    assert ", rechecked |" in (out / "comparison.md").read_text()
    commits = {side: json.loads((out / f"{side}.json").read_text()) for side in ("base", "head")}
    assert commits["base"]["commit_info"]["id"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert commits["head"]["commit_info"]["id"] == git(repo, "rev-parse", "HEAD").strip()
    # Each side ran its own tree: only head has the benchmark its commit added.
    assert [b["name"] for b in commits["head"]["benchmarks"]][-1] == "test_only_in_head"
    assert len(commits["base"]["benchmarks"]) == 1 and len(commits["head"]["benchmarks"]) == 2
    tokens = set()
    for document in commits.values():
        bench = document["benchmarks"][0]
        assert [p["index"] for p in bench["extra_info"]["tf2bench"]["processes"]] == [1, 2]
        block = document["machine_info"]["tf2bench"]
        assert block["processes"] == 2
        assert block["affinity_cpu_count"] == 1  # pinned to its pair's CPU
        tokens.add(block["pairing"])
    assert len(tokens) == 1  # both sides are the pairs of this run
    assert (
        "| pairs " in (out / "comparison.md").read_text()
        or "paired" in (out / "comparison.md").read_text()
    )
    for name in ("summary.md", "comparison.md", "report/report.html", "report/report.md"):
        assert (out / name).stat().st_size > 0
    summary = (out / "summary.md").read_text()
    assert "regression" in summary.lower() and "pairs of base and head processes" in summary
    # The report says which of its numbers are the paired test's and which each side's own.
    assert "come from the paired test" in (out / "report/report.md").read_text()
    assert_no_worktree_left(repo, cache)
    assert not (cache / "venvs").exists()  # this interpreter satisfies both revisions


def test_without_pairing_whole_processes_alternate(monkeypatch, tmp_path):
    from test_merge import document, entry

    from tf2bench.harness import pairs, processes

    order = []

    def fake_run(tree, process, args, workdir, log=None):
        order.append((tree.label, process.index))
        return document(entry("w", [0.01, 0.011], 0.1))

    monkeypatch.setattr(processes, "run_process", fake_run)
    sides = {side: (processes.Tree(tmp_path, label=side), None) for side in ("base", "head")}
    merged = pairs.measure_alternately(sides, 2, "selection", [], tmp_path)
    assert order == [("base", 1), ("head", 1), ("base", 2), ("head", 2)]
    assert "pairing" not in merged["base"]["machine_info"]["tf2bench"]


@pytest.mark.slow
def test_sigterm_removes_the_worktrees(repo, tmp_path):
    cache = tmp_path / "cache"
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tf2bench.cli", "ab", "HEAD~1", "HEAD", "--preset", "quick",
         "--processes", "1", "--out", str(tmp_path / "o"), "--cache", str(cache)],
        cwd=repo, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while worktree_count(repo) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worktree_count(repo) == 3  # two revisions checked out
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) != 0
    assert_no_worktree_left(repo, cache)


def paired_side(scales: dict[str, float], pairs: int = 3) -> dict:
    """One side of an ab run: each benchmark scaled by its factor, in `pairs` paired processes."""
    from test_merge import document, entry

    from tf2bench.records.merge import merge_documents

    runs = [
        (
            i,
            document(
                *(
                    entry(name, [scale * (1 + 0.001 * k) * (1 + 0.01 * i) for k in range(20)], 0.1)
                    for name, scale in scales.items()
                )
            ),
        )
        for i in range(1, pairs + 1)
    ]
    return merge_documents(runs, mode="selection", processes=pairs, pairing="run-token")


def write_and_compare(documents, out, notes=()):
    from tf2bench.commands import ab
    from tf2bench.report.compare import compare_runs

    runs = ab._write_runs(documents, out)
    comparison = compare_runs(*runs)
    return runs, comparison


def test_a_clear_regression_exits_1_and_leads_the_summary_and_report(tmp_path):
    from tf2bench.commands import ab

    documents = {"base": paired_side({"slow": 1.0}), "head": paired_side({"slow": 1.5})}
    runs, comparison = write_and_compare(documents, tmp_path)
    labels = {"base": "base a", "head": "head b"}
    code = ab._write_comparison(
        runs, comparison, tmp_path, labels, "quick", 3, ["the machine is busy"], True
    )
    assert code == 1
    summary = (tmp_path / "summary.md").read_text()
    assert "**1 regression(s): slow.**" in summary and "| `slow` |" in summary
    assert "Note: the machine is busy." in summary
    report = (tmp_path / "report" / "report.md").read_text()
    assert "## Base vs head" in report and "REGRESSION" in report
    assert (tmp_path / "comparison.md").read_text().count("REGRESSION") >= 1


def test_the_recheck_measures_the_likeliest_changes_again_and_decides_on_them(
    monkeypatch, tmp_path
):
    from tf2bench.commands import ab
    from tf2bench.harness import pairs

    scales = {"fluke": 1.3, "real": 1.3, "same": 1.0}
    documents = {"base": paired_side(dict.fromkeys(scales, 1.0)), "head": paired_side(scales)}
    runs, first = write_and_compare(documents, tmp_path)
    assert {c.name for c in first.regressions} == {"fluke", "real"}
    asked = []

    def fresh_pairs(sides, count, pytest_args, work, node_ids=()):
        asked.append((count, list(node_ids)))
        again = {"fluke": 1.0, "real": 1.3}
        base = paired_side(dict.fromkeys(again, 1.0), pairs=count)
        return {"base": base, "head": paired_side(again, pairs=count)}, True

    monkeypatch.setattr(pairs, "measure_in_pairs", fresh_pairs)
    final = ab._recheck(first, runs[0], {}, (8, 4), [], tmp_path, tmp_path)
    # Only the changes over half the threshold, by their node ids, in the asked pairs.
    assert asked == [(4, ["benchmarks/test_x.py::fluke", "benchmarks/test_x.py::real"])]
    assert [c.name for c in final.regressions] == ["real"]
    assert {c.name for c in final.changes if c.rechecked} == {"fluke", "real"}
    assert (tmp_path / "recheck" / "head.json").is_file()
    assert "fluke" in (tmp_path / "recheck" / "comparison.md").read_text()
    code = ab._write_comparison(
        runs, final, tmp_path, {"base": "a", "head": "b"}, "quick", 2, [], True
    )
    assert code == 1
    assert "REGRESSION, rechecked" in (tmp_path / "comparison.md").read_text()
    assert "measured again in 4 fresh pairs" in (tmp_path / "summary.md").read_text()
    report = (tmp_path / "report" / "report.md").read_text()
    assert report.count("measured again in 4 fresh pairs") == 2  # at a glance, Base vs head


def test_the_recheck_is_on_by_default_and_zero_turns_it_off():
    from tf2bench.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["ab", "A", "B", "--out", "o"]).recheck == 8
    assert parse(["ab", "A", "B", "--out", "o", "--recheck", "0"]).recheck == 0
