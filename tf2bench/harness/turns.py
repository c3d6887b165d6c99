"""Paired processes that take turns on one CPU, a few milliseconds at a time.

Why: on this kind of machine (a 2-vCPU VM) each vCPU's speed wanders by about 20% within a
second, independently of the other vCPU (README, "Base vs head"). Two processes measured one
after the other, or side by side on two vCPUs, see different machines. A base and a head
process pinned to the same CPU that hand the CPU to each other every SLICE_S see the same
one, so the machine's drift cancels in their ratio.

Protocol over two pipes per worker (no sockets, nothing listens): the worker writes
"want <test number>\\n" and blocks until the referee writes b"g"; it then runs alone until
its next "want" or its exit. The referee (in the parent) hands the turn only when every live
worker waits, the worker behind in test order first, alternating on a tie; so at most one
worker runs at any time and the two stay on the same benchmark. No TensorFlow here.
"""

from __future__ import annotations

import math
import os
import select
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tf2bench.errors import MeasurementError, UsageError
from tf2bench.settings import ENV

__all__ = [
    "CPUS_ENV",
    "SLICE_S",
    "TURNS_ENV",
    "Referee",
    "Turns",
    "pin_to",
    "rounds_for",
]

TURNS_ENV = ENV["turns"]  # "<read fd>,<write fd>" of a worker's two pipes
CPUS_ENV = ENV["cpus"]  # "1" or "0,1": the CPUs a worker pins itself to
# Short enough that a vCPU's speed barely moves within a slice (its autocorrelation is ~0.9
# at 20 ms here), long enough that the hand-over (~0.1 ms) and cache refills are small.
SLICE_S = 0.02
LAST_TEST = 1 << 30  # the "want" of a finished session: after every test of the other worker
MAX_ROUNDS = 5000


def pin_to(environ: Mapping[str, str] = os.environ) -> frozenset[int] | None:
    """Pins this process to $TF2BENCH_CPUS before TensorFlow starts its threads; the CPUs or None.

    TensorFlow sizes its default thread pools from the CPUs it may run on, so a worker pinned
    to one CPU also runs one intra-op thread, as its partner does.
    """
    text = environ.get(CPUS_ENV, "").strip()
    if not text:
        return None
    try:
        cpus = frozenset(int(part) for part in text.split(","))
    except ValueError:
        cpus = frozenset()
    allowed = os.sched_getaffinity(0)
    if not cpus or not cpus <= allowed:
        raise UsageError(
            f"Received {CPUS_ENV}={text!r}, expected CPU numbers this process may use "
            f"({','.join(map(str, sorted(allowed)))})"
        )
    os.sched_setaffinity(0, cpus)
    return cpus


def rounds_for(seconds_per_call: float, max_time: float, min_rounds: int) -> int:
    """pytest-benchmark's rule (rounds fill max_time, at least min_rounds), capped."""
    if not seconds_per_call > 0:
        return max(1, min_rounds)
    return max(min_rounds, min(MAX_ROUNDS, math.ceil(max_time / seconds_per_call)))


@dataclass
class Turns:
    """The worker side: blocks until it is this process's turn.

    Attributes:
        max_time, min_rounds: pytest-benchmark's settings; paired rounds follow the same rule.
    """

    reader: int
    writer: int
    max_time: float = 1.0
    min_rounds: int = 5
    slice_s: float = SLICE_S
    clock: Callable[[], float] = time.perf_counter
    test: int = 0
    turns: int = 0
    _held_since: float | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ, **settings) -> Turns | None:
        text = environ.get(TURNS_ENV, "").strip()
        if not text:
            return None
        try:
            reader, writer = (int(part) for part in text.split(","))
            os.fstat(reader), os.fstat(writer)
        except (ValueError, OSError):
            raise UsageError(
                f"Received {TURNS_ENV}={text!r}, expected '<read fd>,<write fd>' of open pipes "
                "(it is set by `tf2bench ab`, not by hand)"
            ) from None
        # Not for grandchildren (distribute's workers): they must not hold the pipes open.
        os.set_inheritable(reader, False)
        os.set_inheritable(writer, False)
        return cls(reader, writer, **settings)

    def take(self) -> None:
        """Gives up the CPU if held, and returns once the referee hands it back."""
        try:
            os.write(self.writer, f"want {self.test}\n".encode())
            answer = os.read(self.reader, 1)
        except OSError:
            answer = b""
        if answer != b"g":
            raise MeasurementError("the paired-turns referee went away; the run was stopped")
        self.turns += 1
        self._held_since = self.clock()

    def next_test(self) -> None:
        self.test += 1
        self.take()

    def between_rounds(self) -> None:
        """pedantic's setup: hands over once this turn has lasted a slice."""
        if self._held_since is None or self.clock() - self._held_since >= self.slice_s:
            self.take()

    def finish(self) -> None:
        """The session's end (writing results) runs in a turn too."""
        self.test = LAST_TEST
        self.take()


@dataclass
class Worker:
    process: subprocess.Popen
    wants: int  # read end of "want" lines
    go: int  # write end of b"g"
    label: str = ""
    waiting_at: int | None = None
    took_turns: bool = False
    alive: bool = True
    buffer: bytes = b""


class Referee:
    """The parent side: starts workers with their pipes and hands out turns until all exit."""

    def __init__(self) -> None:
        self.workers: list[Worker] = []
        self.turns_given = 0
        self._last: Worker | None = None

    def start(self, command: Sequence[str], *, env: Mapping[str, str], label: str, **popen):
        """Popen with a worker's pipes passed down and named in $TF2BENCH_TURNS."""
        go_read, go_write = os.pipe()
        want_read, want_write = os.pipe()
        try:
            process = subprocess.Popen(
                list(command),
                env={**env, TURNS_ENV: f"{go_read},{want_write}"},
                pass_fds=(go_read, want_write),
                **popen,
            )
        except BaseException:
            for fd in (go_read, go_write, want_read, want_write):
                os.close(fd)
            raise
        os.close(go_read)
        os.close(want_write)
        worker = Worker(process, want_read, go_write, label)
        self.workers.append(worker)
        return process

    def run(self, poll_s: float = 0.5) -> None:
        """Hands out turns until every worker has exited; closes the pipes."""
        try:
            while any(worker.alive for worker in self.workers):
                self._read(poll_s)
                self._hand_over()
        finally:
            for worker in self.workers:
                for fd in (worker.wants, worker.go):
                    try:
                        os.close(fd)
                    except OSError:
                        pass

    @property
    def paired(self) -> bool:
        """Every worker took turns (a revision without turns support runs on its own)."""
        return bool(self.workers) and all(worker.took_turns for worker in self.workers)

    def _read(self, poll_s: float) -> None:
        live = {worker.wants: worker for worker in self.workers if worker.alive}
        ready, _, _ = select.select(list(live), [], [], poll_s)
        for fd in ready:
            worker = live[fd]
            data = os.read(fd, 4096)
            if not data:
                self._gone(worker)
                continue
            worker.buffer += data
            *lines, worker.buffer = worker.buffer.split(b"\n")
            for line in lines:
                kind, _, number = line.decode().partition(" ")
                if kind == "want":
                    worker.waiting_at = int(number)
                    worker.took_turns = True
        for worker in live.values():
            # A grandchild can hold the pipe open after the worker itself has gone.
            if worker.alive and worker.waiting_at is None and worker.process.poll() is not None:
                self._gone(worker)

    def _gone(self, worker: Worker) -> None:
        worker.alive = False
        worker.waiting_at = None

    def _hand_over(self) -> None:
        live = [worker for worker in self.workers if worker.alive]
        if not live or any(worker.waiting_at is None for worker in live):
            return  # someone runs (holds the turn) or has not asked yet
        behind = min(worker.waiting_at for worker in live)
        candidates = [worker for worker in live if worker.waiting_at == behind]
        others = [worker for worker in candidates if worker is not self._last]
        chosen = (others or candidates)[0]
        chosen.waiting_at = None
        self._last = chosen
        self.turns_given += 1
        try:
            os.write(chosen.go, b"g")
        except OSError:
            self._gone(chosen)
