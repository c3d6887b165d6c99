"""A fresh network namespace with only its own loopback, for the multi-worker gRPC servers.

TensorFlow's `GrpcServer::Init` listens on `0.0.0.0:<port>` whatever TF_CONFIG says, and its
gRPC runtime has no authentication. Inside a namespace whose only interface is `lo`, 0.0.0.0
reaches nothing but that loopback, which no other namespace (the host included) can reach.

    parent ---- unshare --net [--user --map-root-user] -- python -m tf2bench.harness.netns
                holder: brings `lo` up, says "ready", lives until its stdin closes
    worker i -- nsenter --target HOLDER --net [--user --preserve-credentials] -- worker command

Where namespaces are not allowed the cluster refuses to start, unless the user opts in with
TF2BENCH_UNISOLATED_WORKERS=1, which runs the workers exposed with a loud warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import sys
import warnings
from collections.abc import Sequence

from tf2bench.errors import MeasurementError
from tf2bench.settings import ENV

__all__ = ["OPT_OUT_ENV", "LoopbackNamespace", "UnisolatedWorkersWarning"]

OPT_OUT_ENV = ENV["unisolated_workers"]
_READY = "tf2bench-netns ready"
_START_TIMEOUT_S = 20.0
_UNSHARE = "unshare"
_NSENTER = "nsenter"
# <linux/sockios.h>, <net/if.h>: struct ifreq is a 16-byte name and a 24-byte union.
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sH22x"


class UnisolatedWorkersWarning(UserWarning):
    """The workers run in the host's network namespace: their ports are on every interface."""


class LoopbackNamespace:
    """Holds one loopback-only network namespace open; `wrap` puts a command inside it.

    `start()` returns False (after a warning) only when namespaces are unavailable and the user
    set TF2BENCH_UNISOLATED_WORKERS=1; otherwise it raises a one-line MeasurementError.
    """

    def __init__(self) -> None:
        self._holder: subprocess.Popen[str] | None = None
        self._user_ns = False

    @property
    def pid(self) -> int | None:
        return self._holder.pid if self._holder is not None else None

    def start(self) -> bool:
        reasons = []
        # root can make a bare network namespace; anyone else needs a user namespace around it
        for user_ns in (False, True) if os.geteuid() == 0 else (True,):
            reason = self._try_start(user_ns)
            if reason is None:
                return True
            reasons.append(reason)
        why = "; ".join(reasons)
        if os.environ.get(OPT_OUT_ENV) != "1":
            raise MeasurementError(
                "the multi-worker gRPC servers would listen on every network interface, without "
                f"authentication, because no private network namespace could be made ({why}); "
                f"allow namespaces (e.g. kernel.unprivileged_userns_clone=1), or set "
                f"{OPT_OUT_ENV}=1 to run them exposed on this machine's addresses"
            )
        message = (
            f"tf2bench: WARNING: {OPT_OUT_ENV}=1 and no network namespace ({why}): the worker "
            "gRPC ports are open on every interface of this machine while the run lasts"
        )
        sys.stderr.write(message + "\n")
        warnings.warn(message, UnisolatedWorkersWarning, stacklevel=2)
        return False

    def _try_start(self, user_ns: bool) -> str | None:
        """Starts the holder; the reason it failed, or None."""
        if shutil.which(_UNSHARE) is None or shutil.which(_NSENTER) is None:
            return f"`{_UNSHARE}` and `{_NSENTER}` (util-linux) are needed on PATH"
        command = [_UNSHARE, "--net"]
        if user_ns:
            command += ["--user", "--map-root-user"]
        command += ["--", sys.executable, "-m", "tf2bench.harness.netns"]
        holder = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = "", ""
            line = holder.stdout.readline()  # bounded: the holder exits or answers at once
            if line.strip() == _READY:
                self._holder, self._user_ns = holder, user_ns
                return None
            with contextlib.suppress(subprocess.TimeoutExpired):
                out, err = holder.communicate(timeout=_START_TIMEOUT_S)
            last = (err or out or line).strip().splitlines()
            return f"{' '.join(command[:3])}: {last[-1] if last else 'no answer'}"
        finally:
            if self._holder is not holder:
                _stop(holder)

    def wrap(self, command: Sequence[str]) -> list[str]:
        """`command` run inside the namespace (unchanged when there is none)."""
        if self._holder is None:
            return list(command)
        prefix = [_NSENTER, f"--target={self._holder.pid}", "--net"]
        if self._user_ns:
            prefix += ["--user", "--preserve-credentials"]
        return [*prefix, "--", *command]

    def close(self) -> None:
        """Ends the holder; the namespace goes when its last member (worker) has gone."""
        holder, self._holder = self._holder, None
        if holder is not None:
            _stop(holder)


def _stop(holder: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        holder.stdin.close()
    try:
        holder.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        holder.kill()
        holder.wait()
    for stream in (holder.stdout, holder.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.close()


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def main() -> int:
    """The holder: inside the new namespace, `lo` up, then wait for the parent to let go."""
    _loopback_up()
    print(_READY, flush=True)
    sys.stdin.read()  # EOF when the parent closes the pipe or dies
    return 0


if __name__ == "__main__":
    sys.exit(main())
