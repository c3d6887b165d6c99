"""End to end: three results files as one series, read back through TensorBoard's HTTP API.

The Scalars tab must draw lines (more than one step per tag), the Histograms tab the raw
samples, and the Text tab each run's fingerprint. TensorBoard serves on 127.0.0.1 only and is
stopped in the fixture's teardown.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from test_tensorboard_e2e import TENSORBOARD, TensorBoardClient, _free_port
from test_tensorboard_summaries import _results_at

from tf2bench.cli import main
from tf2bench.tensorboard.summaries import SAMPLES_TAG, SCALAR_PREFIX

pytest.importorskip("tensorflow")
RUN = "ci/execution/test_step.cpu-mlp_train-xla-32"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("series_e2e")
    files = [_results_at(root, index) for index in range(3)]
    assert main(["summaries", *files, "--logdir", str(root / "logs"), "--label", "ci"]) == 0
    port = _free_port()
    with (root / "tensorboard.log").open("w") as log:
        server = subprocess.Popen(
            [str(TENSORBOARD), "--logdir", str(root / "logs"), "--host", "127.0.0.1",
             "--port", str(port)],
            env={**os.environ, "TMPDIR": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        client = TensorBoardClient(f"http://127.0.0.1:{port}")
        client.poll("/data/plugin/scalars/tags", lambda tags: RUN in tags, f"scalars of {RUN}")
        yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_scalars_are_lines_over_the_runs(served):
    points = served.get(f"/data/plugin/scalars/scalars?run={RUN}&tag={SCALAR_PREFIX}median_s")
    assert [step for _, step, _ in points] == [0, 1, 2]
    medians = [value for _, _, value in points]
    assert medians == pytest.approx([0.002, 0.004, 0.006])


def test_raw_samples_are_histograms_per_step(served):
    tags = served.get("/data/plugin/histograms/tags")
    assert SCALAR_PREFIX + SAMPLES_TAG in tags[RUN]
    series = served.get(
        f"/data/plugin/histograms/histograms?run={RUN}&tag={SCALAR_PREFIX}{SAMPLES_TAG}"
    )
    assert [step for _, step, _ in series] == [0, 1, 2]


def test_each_runs_fingerprint_is_text(served):
    texts = served.get("/data/plugin/text/text?run=ci&tag=fingerprint")
    assert len(texts) == 3 and "git_commit" in texts[0]["text"]
