"""The tf2bench record schema's public names, from the two modules that hold them.

records/record.py: one benchmark's block (BenchRecord, metric names, schema version and its
history, the family conventions). records/reader.py: a results file read into RunResults.
"""

from __future__ import annotations

from tf2bench.records.reader import (
    COMPARABLE_FINGERPRINT_KEYS,
    BenchmarkResult,
    RunResults,
    fingerprint_id,
    load_results,
    parse_results,
)
from tf2bench.records.record import (
    BLOCK_KEY,
    METRICS,
    RUN_PARAMS,
    SCHEMA_VERSION,
    SUPPORTED_VERSIONS,
    BenchRecord,
)

__all__ = [
    "BLOCK_KEY",
    "COMPARABLE_FINGERPRINT_KEYS",
    "METRICS",
    "RUN_PARAMS",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "BenchRecord",
    "BenchmarkResult",
    "RunResults",
    "fingerprint_id",
    "load_results",
    "parse_results",
]
