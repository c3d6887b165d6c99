"""The report's content: a section per question the records can answer, and the headlines.

Each section builder takes the tidy frame (and whether several files are compared) and returns
(Section, headline bullets), or None when the records that answer its question are absent, so
a report shows only what was measured. One module per family, found through its declaration
(`Family(report=MODULE)` in records/families.py, whose SECTIONS it lists); families without a
report module still appear (in "Other results" and "All results"), so a new family never
breaks the report. Three or more runs of one environment add a History.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import matplotlib

from tf2bench.records import families as registry
from tf2bench.records.schema import RunResults
from tf2bench.report.frames import results_frame, source_labels
from tf2bench.report.history import history_section
from tf2bench.report.render import Document
from tf2bench.report.sections.runs import (
    appendix_section,
    device_section,
    distributions_section,
    inputs_section,
    noisy_section,
    other_section,
    sources_section,
)
from tf2bench.report.sections.versions import versions_section

__all__ = ["build_document"]

# Across families, after every family's own sections.
RUN_BUILDERS = (
    device_section,
    sources_section,
    other_section,
    distributions_section,
    noisy_section,
)

FIGURE_RC = {
    # Names from records may hold `$`: figure text is literal, never mathtext.
    "text.parse_math": False,
    # NOTE: a fixed title height (where matplotlib puts it when no tick labels are above the
    # panel, as in every report figure); left automatic, each title measured every tick
    # label of its panel again at render time, a fifth of the figures' CPU time.
    "axes.titley": 1.0,
}


def _family_sections() -> list:
    """Each family's sections, in declaration order: the module its `Family(report=...)` names.

    The answer-at-a-glance bullets follow the same order.
    """
    return [
        builder
        for declared in registry.FAMILIES
        if declared.report
        for builder in importlib.import_module(declared.report).SECTIONS
    ]


def build_document(
    runs: Sequence[RunResults],
    title: str = "tf2bench report",
    progress: Callable[[str], None] = lambda step: None,
) -> Document:
    """The whole report for one or more results files, in command-line order; `progress` is
    told each step (the command prints them once a report takes a while)."""
    labels = source_labels([run.path for run in runs])
    frame = results_frame(runs, labels)
    multi = len(runs) > 1
    sections, summary = [inputs_section(runs, labels)], []
    history = history_section(runs)
    if history is not None:  # many runs of one environment: the history is the answer
        sections.append(history[0])
        summary += history[1]
    with matplotlib.rc_context(FIGURE_RC):
        # Files from different environments (tf2bench matrix): the version axes come first.
        versions = versions_section(runs, labels)
        if versions is not None:
            sections.append(versions[0])
            summary += versions[1]
        for builder in (*_family_sections(), *RUN_BUILDERS):
            progress(builder.__name__.removesuffix("_section").replace("_", " "))
            result = builder(frame, multi)
            if result is not None:
                sections.append(result[0])
                summary += result[1]
        sections.append(appendix_section(frame, multi))
    return Document(title=title, summary=summary, sections=sections)
