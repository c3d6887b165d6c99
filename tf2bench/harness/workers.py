"""Local MultiWorkerMirroredStrategy workers on a private loopback: start, drive, always stop.

The supervisor side; the worker side is `tf2bench.workloads.worker_main`.

    parent (the benchmark)                    worker i (python -m tf2bench.workloads.worker_main)
    free ports, TF_CONFIG per worker  ----->  builds the strategy and the step, says ready
    "run"  (one line on stdin)        ----->  runs steps_per_round synchronised steps
    waits for every worker's reply    <-----  {"event": "done", "loss": ..., "tracing_count": ...}
    "quit" / terminate / kill         ----->  exits (also when stdin closes or the parent dies)

Every wait is bounded; workers that exit, report an error or stay silent turn into one
MeasurementError line naming each of them and what it did (with the end of its stderr when it
said nothing itself), and `close()` (also run by the context manager on any error) leaves no
worker process behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

from tf2bench.errors import MeasurementError
from tf2bench.harness.netns import LoopbackNamespace
from tf2bench.tempdirs import temp_prefix

__all__ = [
    "MAX_MESSAGE_CHARS",
    "TAG",
    "LocalCluster",
    "explaining_lines",
    "free_ports",
    "tf_config",
    "worker_command",
    "worker_env",
]

TAG = "tf2bench-worker "
LOCALHOST = "127.0.0.1"
MAX_MESSAGE_CHARS = 400  # of a stderr tail or a worker's error message
_SETTLE_S = 1.0
_EOF = object()
# absl's INFO/WARNING lines (I0000 00:00:... file.cc:1] ...) and its pre-init notice.
_ABSL_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")
# TensorFlow's error-level lines at start-up on a machine without a usable GPU: never the cause.
_BENIGN = re.compile(r"cuInit|cuda_platform|Unable to register cu|TF-TRT|cuda_executor")


def explaining_lines(stderr: str) -> str:
    """What explains a failure in a worker's stderr: the exception of its last Python
    traceback, else its own (non-log) lines, else TensorFlow's error lines that are not start-up
    noise; joined with " | "."""
    raw = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(raw) if line.startswith("Traceback (most recent call")]
    if starts:  # the exception lines: unindented, after the last traceback's frames
        raw = [
            line for line in raw[starts[-1] + 1 :]
            if not line.startswith(" ") and not _ABSL_LOG_LINE.match(line)
        ]  # fmt: skip
    own = [line.strip() for line in raw if not _ABSL_LOG_LINE.match(line)]
    errors = [line.strip() for line in raw if line[:1] in "EF" and not _BENIGN.search(line)]
    chosen = own or [line for line in errors if _ABSL_LOG_LINE.match(line)]
    return " | ".join(chosen) or "(nothing but log lines)"


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that are free on 127.0.0.1 now (the OS picks them)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:  # all held open together, so the OS cannot hand out one twice
            sock.bind((LOCALHOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def tf_config(ports: Sequence[int], index: int) -> str:
    """The TF_CONFIG of worker `index` in a cluster of local workers on `ports`."""
    cluster = {"worker": [f"{LOCALHOST}:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def worker_command(
    network: str, global_batch: int, steps_per_round: int, *, threads: str = "all"
) -> list[str]:
    """The command line of a real worker process (see `tf2bench.workloads.worker_main`)."""
    return [
        sys.executable, "-m", "tf2bench.workloads.worker_main",
        f"--network={network}", f"--global-batch={global_batch}",
        f"--steps-per-round={steps_per_round}", f"--threads={threads}",
    ]  # fmt: skip


class _Worker:
    """One child process; a thread puts its replies on the cluster's queue; stderr in a file."""

    def __init__(
        self, index: int, command: Sequence[str], env: dict[str, str], replies: queue.Queue
    ) -> None:
        self.index = index
        self.stderr_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr_file,
            env=env,
            text=True,
            bufsize=1,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the parent, which stops us
        )
        self.replies = replies
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith(TAG):
                try:
                    reply = json.loads(line[len(TAG) :])
                except json.JSONDecodeError:
                    reply = {"event": "error", "message": f"garbled reply {line.strip()!r}"}
                self.replies.put((self.index, reply))
        self.replies.put((self.index, _EOF))

    def send(self, command: str) -> None:
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the worker is gone; waiting for its reply reports how it ended

    def stderr_tail(self) -> str:
        """The lines of the worker's stderr that explain its failure, on one line."""
        self.stderr_file.seek(0)
        return explaining_lines(self.stderr_file.read())[-MAX_MESSAGE_CHARS:]

    def stop(self, grace_s: float) -> None:
        """Closes its stdin (a polite quit), then terminates, then kills it; always reaps it."""
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        for stop_signal in (None, signal.SIGTERM, signal.SIGKILL):
            if stop_signal is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, stop_signal)  # also any child it started
            try:
                self.process.wait(timeout=grace_s)
                break
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(timeout=grace_s)
        self.stderr_file.close()


class LocalCluster:
    """Worker processes that each build a MultiWorkerMirroredStrategy over all of them.

    Args:
        command: the worker command line (`worker_command(...)`); tests pass small stand-ins.
        workers: how many worker processes.
        start_timeout_s: longest wait for every worker to be ready (TensorFlow import included).
        round_timeout_s: longest wait for one round on every worker.
        grace_s: per stop stage (quit, SIGTERM, SIGKILL) when closing.
        device: cpu | gpu; on gpu worker i sees only GPU i, on cpu no worker sees a GPU.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        workers: int = 2,
        start_timeout_s: float = 180.0,
        round_timeout_s: float = 120.0,
        grace_s: float = 5.0,
        device: str = "cpu",
    ) -> None:
        self.command = list(command)
        self.workers = workers
        self.start_timeout_s = start_timeout_s
        self.round_timeout_s = round_timeout_s
        self.grace_s = grace_s
        self.device = device
        self._workers: list[_Worker] = []
        self._replies: queue.Queue[tuple[int, Any]] = queue.Queue()
        self.last_tracing_count = 0
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._netns: LoopbackNamespace | None = None

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid for worker in self._workers]

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Starts every worker and waits until all are ready (bounded by start_timeout_s)."""
        ports = free_ports(self.workers)
        # Every worker joins one loopback-only network namespace (see netns.py).
        self._netns = LoopbackNamespace()
        # A killed worker cannot clean up AutoGraph's generated files; its TMPDIR is ours.
        self._scratch = tempfile.TemporaryDirectory(prefix=temp_prefix("workers"))
        try:
            self._netns.start()
            command = self._netns.wrap(self.command)
            for index in range(self.workers):
                env = {
                    **os.environ,
                    **worker_env(self.device, index),
                    "TF_CONFIG": tf_config(ports, index),
                    "TMPDIR": self._scratch.name,
                }
                env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                self._workers.append(_Worker(index, command, env, self._replies))
            self._collect("ready", self.start_timeout_s, "to start")
        except BaseException:
            self.close()
            raise

    def run_round(self) -> float:
        """Runs one round on every worker and waits for all of them.

        Returns:
            The global loss after the round (worker 0's; every worker reports the same).
        """
        if not self._workers:
            raise MeasurementError("the MultiWorkerMirroredStrategy workers are not running")
        for worker in self._workers:
            worker.send("run")
        replies = self._collect("done", self.round_timeout_s, "to finish a round")
        self.last_tracing_count = max(int(reply["tracing_count"]) for reply in replies)
        return float(replies[0]["loss"])

    def experimental_get_tracing_count(self) -> int:
        """The workers' tracing count at the last round, for the harness's retrace guard."""
        return self.last_tracing_count

    def close(self) -> None:
        """Stops every worker (quit, then SIGTERM, then SIGKILL) and reaps it; idempotent."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.send("quit")
        for worker in workers:
            worker.stop(self.grace_s)
        if self._netns is not None:
            self._netns.close()
            self._netns = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _collect(self, event: str, timeout_s: float, doing: str) -> list[dict[str, Any]]:
        """One `event` reply from every worker, in worker order; the first failure raises."""
        deadline = time.monotonic() + timeout_s
        replies: dict[int, Any] = {}
        while len(replies) < len(self._workers):
            try:
                index, reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise self._failure(replies, event, doing, timed_out_s=timeout_s) from None
            replies[index] = reply
            if reply is _EOF or reply.get("event") != event:
                raise self._failure(replies, event, doing)
        return [replies[index] for index in sorted(replies)]

    def _failure(
        self, replies: dict[int, Any], event: str, doing: str, timed_out_s: float | None = None
    ) -> MeasurementError:
        """One line about every worker that went wrong; stops them all.

        Workers that exited come first: a peer's error is usually the consequence of their
        exit (its collective op lost a participant).
        """
        # A killed process takes a moment to close its pipe, while its peer may already have
        # reported the broken collective: listen a little longer before deciding who failed.
        settle_until = time.monotonic() + min(_SETTLE_S, self.grace_s)
        with contextlib.suppress(queue.Empty):
            while len(replies) < len(self._workers):
                index, reply = self._replies.get(timeout=max(0.0, settle_until - time.monotonic()))
                if index not in replies or _succeeded(replies[index], event):
                    replies[index] = reply  # a failure replaces nothing or a success
        problems = []
        for worker in self._workers:
            reply = replies.get(worker.index)
            if _succeeded(reply, event):
                continue
            if isinstance(reply, dict):
                problems.append((1, worker, f"failed {doing}: {reply.get('message', reply)}"))
            elif reply is _EOF or worker.process.poll() is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(timeout=self.grace_s)
                code = worker.process.returncode
                problems.append((0, worker, f"exited (code {code}) before it was {event}"))
            elif timed_out_s is not None:
                problems.append((2, worker, f"did not answer within {timed_out_s:.0f} s {doing}"))
        problems.sort(key=lambda problem: (problem[0], problem[1].index))
        kind, first, _ = problems[0]
        # A worker that reported its error said it all; otherwise its stderr may say why.
        tail = "" if kind == 1 else f"; worker {first.index}'s stderr ends: {first.stderr_tail()}"
        self.close()
        described = "; ".join(
            f"worker {worker.index} (pid {worker.process.pid}) {what}"
            for _, worker, what in problems
        )
        return MeasurementError(f"MultiWorkerMirroredStrategy {described}{tail}")


def _succeeded(reply: Any, event: str) -> bool:
    return isinstance(reply, dict) and reply.get("event") == event


def worker_env(kind: str, index: int) -> dict[str, str]:
    """Extra environment of worker `index` on `kind`: one GPU each, or the CPU."""
    return {"CUDA_VISIBLE_DEVICES": str(index) if kind == "gpu" else "-1"}
