"""One MultiWorkerMirroredStrategy worker, the child side of `harness.workers.LocalCluster`.

Run as `python -m tf2bench.workloads.worker_main`; replies on stdout are lines starting with
`TAG`, JSON after it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from tf2bench.harness.workers import MAX_MESSAGE_CHARS, TAG

__all__ = ["main"]


def _reply(**payload: Any) -> None:
    sys.stdout.write(TAG + json.dumps(payload) + "\n")
    sys.stdout.flush()


def _exit_with_parent(parent_pid: int) -> None:
    """Ends this worker when the parent dies, even while a collective op blocks the main thread."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(3)


def _one_line(error: Exception) -> str:
    """An error on one line, without the Python trace TensorFlow puts inside op errors."""
    lines = [line.strip() for line in str(error).splitlines()]
    kept = [
        line
        for line in lines
        if line and not line.startswith(("File ", "Detected at node", "[[{{node"))
    ]
    return f"{type(error).__name__}: {' '.join(kept)}"


def main(argv: Sequence[str] | None = None) -> int:
    """A worker: builds the multi_worker step, then runs one round per 'run' line on stdin."""
    parser = argparse.ArgumentParser(prog="tf2bench-worker")
    parser.add_argument("--network", default="mlp")
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--steps-per-round", type=int, default=10)
    parser.add_argument("--threads", default="all")
    args = parser.parse_args(argv)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        from tf2bench.harness.runtime import apply_threads

        apply_threads(args.threads)
        from tf2bench.workloads.distribute import DistributeSpec, build_distributed_step

        workers = len(json.loads(os.environ["TF_CONFIG"])["cluster"]["worker"])
        spec = DistributeSpec(
            args.network, "multi_worker", replicas=workers, global_batch=args.global_batch,
            steps_per_round=args.steps_per_round,
        )  # fmt: skip
        step = build_distributed_step(spec)
        _reply(event="ready", replicas=step.replicas)
        for line in iter(sys.stdin.readline, ""):
            command = line.strip()
            if command == "quit":
                break
            if command == "run":
                loss = float(step())
                tracing_count = int(step.fn.experimental_get_tracing_count())
                _reply(event="done", loss=loss, tracing_count=tracing_count)
    except Exception as error:  # noqa: BLE001 - reported to the parent as one line
        _reply(event="error", message=_one_line(error)[:MAX_MESSAGE_CHARS])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
