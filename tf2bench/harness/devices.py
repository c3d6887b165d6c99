"""Device discovery, placement and skip reasons.

Only physical devices are listed here: listing them does not initialise TensorFlow's logical
devices, so a later `tf.config.set_logical_device_configuration` (distribution benchmarks)
still works in the same process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tf2bench.errors import UsageError
from tf2bench.presets import DEVICE_KINDS

__all__ = ["Device", "check_requested", "skip_reason", "sync_function", "visible_kinds"]


def visible_kinds(
    list_physical: Callable[[str], Sequence[object]] | None = None,
) -> tuple[str, ...]:
    """The device kinds TensorFlow can see, in DEVICE_KINDS order."""
    if list_physical is None:
        import tensorflow as tf

        list_physical = tf.config.list_physical_devices
    return tuple(kind for kind in DEVICE_KINDS if list_physical(kind.upper()))


def skip_reason(kind: str, visible: Sequence[str]) -> str | None:
    """Why a benchmark on `kind` cannot run here, or None when it can."""
    if kind in visible:
        return None
    if kind == "gpu":
        return (
            "no GPU visible to TensorFlow (tf.config.list_physical_devices('GPU') is empty); "
            "install tf2bench[gpu] on a machine with a CUDA GPU"
        )
    return f"no {kind.upper()} visible to TensorFlow"


def check_requested(requested: Sequence[str], visible: Sequence[str]) -> None:
    """Refuses explicitly requested device kinds that are not present, naming the visible ones."""
    missing = [kind for kind in requested if kind not in visible]
    if missing:
        raise UsageError(
            f"Received --tf2bench-device={','.join(requested)}, but {', '.join(missing)} is not "
            f"present; visible devices: {', '.join(visible) or 'none'}"
        )


def sync_function(kind: str) -> Callable[[], None] | None:
    """The device sync the timer needs: GPU work is asynchronous, CPU work is not."""
    if kind != "gpu":
        return None
    import tensorflow as tf

    return tf.test.experimental.sync_devices


@dataclass(frozen=True)
class Device:
    """A device a benchmark runs on; its `kind` is the `device` parameter in benchmark names."""

    kind: str
    index: int = 0

    @property
    def tf_name(self) -> str:
        return f"/{self.kind.upper()}:{self.index}"

    @property
    def sync(self) -> Callable[[], None] | None:
        return sync_function(self.kind)

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Places ops and variables created inside on this device."""
        import tensorflow as tf

        with tf.device(self.tf_name):
            yield
