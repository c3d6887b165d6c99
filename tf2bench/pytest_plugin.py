"""tf2bench's pytest plugin: options, presets, the device parameter, fixtures, machine info.

Registered through the `pytest11` entry point. Importing it must not import TensorFlow: the
report tests run without it, and device listing here would fix TensorFlow's device
configuration before distribution benchmarks can set logical devices.
"""

from __future__ import annotations

import os

import pytest

from tf2bench.errors import UsageError
from tf2bench.presets import (
    DEVICE_KINDS,
    FAMILIES,
    PRESET_ENV,
    PRESETS,
    active_preset,
    parse_list,
    set_active_preset,
)

DEVICE_ENV = "TF2BENCH_DEVICE"
FAMILY_ENV = "TF2BENCH_FAMILY"
FAMILY_MARKER = "tf2bench_family"
# pytest-benchmark options that mean "measure", so a plain `pytest` run stays a smoke test.
_MEASURING_OPTIONS = (
    "benchmark_only",
    "benchmark_enable",
    "benchmark_json",
    "benchmark_save",
    "benchmark_autosave",
    "benchmark_compare",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tf2bench", "tf2bench benchmark suite")
    group.addoption(
        "--tf2bench-preset",
        default=None,
        help=f"bound the matrix: {', '.join(PRESETS)} (default: ${PRESET_ENV} or standard)",
    )
    group.addoption(
        "--tf2bench-device",
        default=None,
        help=f"comma-separated device kinds: {', '.join(DEVICE_KINDS)} "
        f"(default: ${DEVICE_ENV} or all; kinds not present skip with a reason)",
    )
    group.addoption(
        "--tf2bench-family",
        default=None,
        help=f"comma-separated families to run: {', '.join(FAMILIES)} (default: ${FAMILY_ENV} or all)",
    )


def _option_or_env(config: pytest.Config, option: str, env: str) -> tuple[str | None, bool]:
    """The option, else the environment variable; and whether the user set either."""
    value = config.getoption(option) or os.environ.get(env) or None
    return value, value is not None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Keeps TensorFlow's C++ start-up chatter out of test output; the user's value wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    config.addinivalue_line("markers", f"{FAMILY_MARKER}(name): the benchmark family of a module")
    config.addinivalue_line("markers", "gpu: needs a GPU; skipped with a reason where none is visible")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    try:
        preset, _ = _option_or_env(config, "tf2bench_preset", PRESET_ENV)
        set_active_preset((preset or active_preset()).strip().lower())
        devices, explicit = _option_or_env(config, "tf2bench_device", DEVICE_ENV)
        config._tf2bench_devices = parse_list("device", devices, DEVICE_KINDS) if explicit else DEVICE_KINDS
        if explicit:
            from tf2bench.harness.devices import check_requested, visible_kinds

            check_requested(config._tf2bench_devices, visible_kinds())
        families, chosen = _option_or_env(config, "tf2bench_family", FAMILY_ENV)
        config._tf2bench_families = parse_list("family", families, FAMILIES) if chosen else FAMILIES
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    if not any(config.getoption(name, default=None) for name in _MEASURING_OPTIONS):
        # Plain `pytest`: run every benchmark body once, untimed (pytest-benchmark's disable).
        config.option.benchmark_disable = True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", metafunc.config._tf2bench_devices, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = set(config._tf2bench_families)
    if chosen == set(FAMILIES):
        return
    kept, deselected = [], []
    for item in items:
        marker = item.get_closest_marker(FAMILY_MARKER)
        (deselected if marker and marker.args[0] not in chosen else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def device(request: pytest.FixtureRequest):
    """The Device of this benchmark; skips with a reason when its kind is not visible."""
    from tf2bench.harness.devices import Device, skip_reason, visible_kinds

    kind = request.param
    reason = skip_reason(kind, visible_kinds())
    if reason:
        pytest.skip(reason)
    return Device(kind)


@pytest.fixture
def harness(device, benchmark):
    """A tf2bench Harness around pytest-benchmark's fixture, on this benchmark's device."""
    from tf2bench.harness.runner import Harness

    return Harness(benchmark, device, active_preset())


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    from tf2bench.harness.environment import fingerprint
    from tf2bench.records.schema import BLOCK_KEY

    machine_info[BLOCK_KEY] = fingerprint()
