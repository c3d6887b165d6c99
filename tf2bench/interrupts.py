"""SIGTERM (a CI timeout, `kill`) handled exactly as SIGINT: KeyboardInterrupt, clean-up, exit.

Python turns SIGINT into KeyboardInterrupt, so every `finally` and context manager runs and
atexit hooks (AutoGraph removes its generated files there) run too. The default SIGTERM action
kills the interpreter without any of that; `sigterm_as_interrupt` makes SIGTERM take SIGINT's path.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

__all__ = ["Terminated", "sigterm_as_interrupt"]


class Terminated(KeyboardInterrupt):
    """SIGTERM received; a KeyboardInterrupt so that it takes the same clean-up path."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received signal {signum} (SIGTERM)")


def sigterm_as_interrupt() -> bool:
    """Installs the SIGTERM handler if SIGTERM is at its default; True if installed.

    Only the main thread may set handlers, and a handler someone else installed is kept.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True
