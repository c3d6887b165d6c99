"""End to end: profile a real benchmark, write its summaries, read both back through TensorBoard.

One module-scoped logdir is filled by `tf2bench profile` on a small execution benchmark (with
`--tf2bench-summaries` at the end of that pytest run); one TensorBoard serves it on 127.0.0.1
at a free port and is always stopped in the fixture's teardown. Everything lives under pytest's
tmp folder, TensorBoard's info file too (TMPDIR).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tf2bench.tensorboard.summaries import HPARAMS, SCALAR_PREFIX, SCALARS

pytest.importorskip("tensorflow")
pytest.importorskip("tensorboard_plugin_profile")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TENSORBOARD = Path(sys.executable).with_name("tensorboard")
BENCHMARK = "benchmarks/test_execution.py::test_op_granularity[cpu-few_large_ops-autograph]"
NAME = "test_op_granularity[cpu-few_large_ops-autograph]"
RUN = "execution/test_op_granularity.cpu-few_large_ops-autograph"
STEP_NAME = "few_large_ops"  # the workload: the profiler's step marker name
STEPS = 10
DEADLINE_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TensorBoardClient:
    """Reads TensorBoard's HTTP API; responses may be gzip-encoded."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, *, body: dict | None = None, raw: bool = False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            headers={"Accept-Encoding": "gzip", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                payload = gzip.decompress(payload)
        return payload.decode() if raw else json.loads(payload)

    def poll(self, path: str, ready, what: str):
        """GETs `path` until `ready(response)` is truthy; fails after DEADLINE_S seconds."""
        deadline = time.monotonic() + DEADLINE_S
        last: object = None
        while time.monotonic() < deadline:
            try:
                last = self.get(path)
                if ready(last):
                    return last
            except (urllib.error.URLError, ConnectionError, ValueError) as error:
                last = error
            time.sleep(0.5)
        pytest.fail(f"TensorBoard: {what} not seen within {DEADLINE_S:.0f} s; last: {last!r}")


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """(logdir, results JSON, CLI stdout) after profiling the benchmark and writing summaries."""
    root = tmp_path_factory.mktemp("tensorboard_e2e")
    logdir, results = root / "logs", root / "results.json"
    command = [
        sys.executable, "-m", "tf2bench.cli", "profile", BENCHMARK, "--logdir", str(logdir),
        "--preset", "quick", "--pytest", "--benchmark-max-time=0.2",
        f"--benchmark-json={results}", f"--tf2bench-summaries={logdir}",
        f"--benchmark-storage={root / 'storage'}",  # not the repository's .benchmarks
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(root)}
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return logdir, json.loads(results.read_text()), done.stdout


@pytest.fixture(scope="module")
def tensorboard(filled, tmp_path_factory):
    logdir = filled[0]
    home = tmp_path_factory.mktemp("tensorboard_home")
    port = _free_port()
    with (home / "tensorboard.log").open("w") as log:
        server = subprocess.Popen(
            [str(TENSORBOARD), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "TMPDIR": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        client = TensorBoardClient(f"http://127.0.0.1:{port}")
        # The profile plugin decides it is active asynchronously, after a scan of the logdir.
        client.poll(
            "/data/plugins_listing",
            lambda listing: listing.get("profile", {}).get("enabled"),
            "an enabled profile plugin",
        )
        yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def profile_run(tensorboard) -> str:
    runs = tensorboard.poll(
        "/data/plugin/profile/runs",
        lambda runs: any(run.startswith(RUN + "/") for run in runs),
        f"profile run {RUN}/<timestamp>",
    )
    return next(run for run in runs if run.startswith(RUN + "/"))


def _tool_data(tensorboard, run: str, tool: str, raw: bool = False):
    hosts = tensorboard.get(f"/data/plugin/profile/hosts?run={run}&tag={tool}")
    host = hosts[0]["hostname"]
    return tensorboard.get(f"/data/plugin/profile/data?run={run}&tag={tool}&host={host}", raw=raw)


def test_the_cli_reports_the_profile_and_its_overhead(filled):
    logdir, results, stdout = filled
    (benchmark,) = results["benchmarks"]
    ratio = benchmark["extra_info"]["tf2bench"]["metrics"]["profile_overhead_ratio"]
    assert ratio > 0 and f"overhead x{ratio:.2f} over {STEPS} steps" in stdout
    (sidecar,) = (logdir / RUN).glob("tf2bench-profile.*.json")
    assert json.loads(sidecar.read_text())["profile_overhead_ratio"] == pytest.approx(ratio)


def test_profile_plugin_lists_the_run_with_overview_and_trace_viewer(tensorboard, profile_run):
    tools = tensorboard.get(f"/data/plugin/profile/run_tools?run={profile_run}")
    assert "overview_page" in tools
    assert any(tool.startswith("trace_viewer") for tool in tools)


def test_overview_page_sees_every_step(tensorboard, profile_run):
    text = _tool_data(tensorboard, profile_run, "overview_page", raw=True)
    assert "No step marker observed" not in text
    tables = [table for table in json.loads(text) if isinstance(table, dict) and "cols" in table]
    (step_table,) = [t for t in tables if t["cols"] and t["cols"][0]["id"] == "stepnum"]
    steps = [row["c"][0]["v"] for row in step_table["rows"]]
    marked = [f"{STEP_NAME} {index}" for index in range(STEPS)]
    # NOTE: the overview page may leave out the first and the last marked step (partial steps).
    assert len(steps) >= STEPS - 2, steps
    first = marked.index(steps[0])
    assert steps == marked[first : first + len(steps)]


def test_trace_viewer_holds_the_benchmarks_ops(tensorboard, profile_run):
    trace = _tool_data(tensorboard, profile_run, "trace_viewer@")
    names = {event.get("name", "") for event in trace["traceEvents"]}
    assert {"Relu", "Sum", f"{STEP_NAME} 0"} <= names
    assert any("MatMul" in name for name in names)  # oneDNN names it _MklMatMul
    assert any("__inference_few_large_ops" in name for name in names)


def test_graphs_tab_has_the_autograph_graph(tensorboard, profile_run):
    info = tensorboard.get("/data/plugin/graphs/info")
    assert info[RUN]["run_graph"]
    graph = tensorboard.get(f"/data/plugin/graphs/graph?run={RUN}&conceptual=false", raw=True)
    assert 'op: "MatMul"' in graph and 'op: "Relu"' in graph


def _summaries_run(tensorboard) -> tuple[str, dict]:
    tags = tensorboard.get("/data/plugin/scalars/tags")
    (run,) = [run for run in tags if run.startswith("pytest-") and run.endswith(RUN)]
    return run, tags[run]


def test_scalars_hold_the_benchmarks_numbers(tensorboard, filled):
    (benchmark,) = filled[1]["benchmarks"]
    run, tags = _summaries_run(tensorboard)
    assert {SCALAR_PREFIX + tag for tag in SCALARS} <= set(tags)
    (point,) = tensorboard.get(
        f"/data/plugin/scalars/scalars?run={run}&tag={SCALAR_PREFIX}median_s"
    )
    assert point[1] == 0 and point[2] == pytest.approx(benchmark["stats"]["median"], rel=1e-6)


def test_hparams_view_has_the_config_and_one_session(tensorboard, filled):
    (benchmark,) = filled[1]["benchmarks"]
    experiment = tensorboard.get("/data/plugin/hparams/experiment", body={"experimentName": ""})
    names = {info["name"] for info in experiment["hparamInfos"]}
    assert set(HPARAMS) <= names  # and each family param as param.<key>
    assert all(name in HPARAMS or name.startswith("param.") for name in names)
    assert [info["name"]["tag"] for info in experiment["metricInfos"]] == [
        SCALAR_PREFIX + tag for tag in SCALARS
    ]
    request = {
        "experimentName": "",
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
        "startIndex": 0,
        "sliceSize": 100,
    }
    groups = tensorboard.get("/data/plugin/hparams/session_groups", body=request)
    assert groups["totalSize"] == 1
    (group,) = groups["sessionGroups"]
    hparams = group["hparams"]
    assert (hparams["family"], hparams["workload"], hparams["mode"]) == (
        "execution", "few_large_ops", "autograph",
    )  # fmt: skip
    assert (hparams["device"], hparams["preset"]) == ("cpu", "quick")
    assert hparams["run"].startswith("pytest-")
    assert group["name"] == f"{NAME} @{hparams['run']}"
    assert group["sessions"][0]["name"] == f"{hparams['run']}/{RUN}"
    medians = [m["value"] for m in group["metricValues"] if m["name"]["tag"].endswith("median_s")]
    assert medians == [pytest.approx(benchmark["stats"]["median"], rel=1e-6)]
