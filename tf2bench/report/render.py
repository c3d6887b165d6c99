"""The report as a document (text, tables, figures) -> Markdown, HTML and PNG files on disk.

`write_report` builds the whole report in a temporary folder next to the target and then
renames it into place, so an existing report is replaced whole or not at all.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from tf2bench.errors import OutputError

__all__ = [
    "Document",
    "Plot",
    "Section",
    "Table",
    "check_output",
    "render_html",
    "render_markdown",
    "write_report",
]

REPORT_FILES = ("report.md", "report.html", "figures")
FIGURE_DPI = 100


@dataclass
class Table:
    """A table of already formatted cells (strings)."""

    rows: pd.DataFrame
    caption: str = ""


@dataclass
class Plot:
    """A figure saved as figures/<name>.png."""

    name: str
    figure: Figure
    caption: str

    @property
    def path(self) -> str:
        return f"figures/{self.name}.png"


Block = str | list[str] | Table | Plot  # a paragraph, a bullet list, a table or a figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Document:
    title: str
    summary: list[str]
    sections: list[Section]

    def plots(self) -> list[Plot]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Plot)]


def render_markdown(document: Document) -> str:
    """The report as GitHub-flavoured Markdown; figures are linked as figures/<name>.png."""
    lines = [f"# {document.title}", "", "## Answer at a glance", ""]
    lines += [f"- {item}" for item in document.summary] + [""]
    lines += ["Contents: " + " · ".join(f"[{s.title}](#{s.anchor})" for s in document.sections), ""]
    for section in document.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            lines += _markdown_block(block) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, str):
        return [block]
    if isinstance(block, list):
        return [f"- {item}" for item in block]
    if isinstance(block, Plot):
        return [f"![{block.caption}]({block.path})", "", f"*{block.caption}*"]
    return _markdown_table(block)


def _markdown_table(table: Table) -> list[str]:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = [cell(c) for c in table.rows.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows.itertuples(index=False)
    ]
    return lines + (["", f"*{table.caption}*"] if table.caption else [])


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; } h2 { margin-top: 2em; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption, .caption { color: #555; font-size: 0.9em; font-style: italic; }
.summary { background: #f5f9ff; border-left: 4px solid #4a90d9; padding: 0.5em 1.5em; }
.summary h2 { margin-top: 0.4em; border: none; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _inline(text: str) -> str:
    """Escapes text and renders the inline marks the report uses: `code`, **bold**, *italic*."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escaped)


def render_html(document: Document) -> str:
    """One static HTML page; figures are <img> links to figures/<name>.png beside it."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(document.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(document.title)}</h1>",
        '<div class="summary"><h2>Answer at a glance</h2><ul>',
        *(f"<li>{_inline(item)}</li>" for item in document.summary),
        "</ul></div>",
        "<p>Contents: "
        + " · ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in document.sections)
        + "</p>",
    ]
    for section in document.sections:
        parts.append(f'<h2 id="{section.anchor}">{html.escape(section.title)}</h2>')
        parts += [_html_block(block) for block in section.blocks]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{_inline(block)}</p>"
    if isinstance(block, list):
        return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block) + "</ul>"
    if isinstance(block, Plot):
        alt = html.escape(block.caption)
        return (
            f'<figure><img src="{block.path}" alt="{alt}" loading="lazy">'
            f"<figcaption>{_inline(block.caption)}</figcaption></figure>"
        )
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in block.rows.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in block.rows.itertuples(index=False)
    )
    caption = f'<div class="caption">{_inline(block.caption)}</div>' if block.caption else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{caption}"


def write_report(document: Document, out_dir: str | os.PathLike[str]) -> Path:
    """Writes DIR/report.md, DIR/report.html and DIR/figures/*.png, replacing DIR whole.

    The report is built in a temporary folder beside DIR and renamed into place; a failure
    leaves any earlier report untouched. DIR must be absent, empty or an earlier report.

    Raises:
        OutputError: DIR cannot be written, or holds files that are not a tf2bench report.
    """
    target = check_output(out_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as error:
        raise OutputError(f"{out_dir}: cannot be written ({_reason(error)})") from None
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
        (staging / "figures").mkdir()
        for plot in document.plots():
            plot.figure.savefig(staging / plot.path, dpi=FIGURE_DPI)
        (staging / "report.md").write_text(render_markdown(document), encoding="utf-8")
        (staging / "report.html").write_text(render_html(document), encoding="utf-8")
        _swap_into_place(staging, target)
    except OSError as error:
        raise OutputError(f"{out_dir}: cannot be written ({_reason(error)})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_output(out_dir: str | os.PathLike[str]) -> Path:
    """The absolute report folder, if a report can be written there (checked before any work).

    Raises:
        OutputError: a parent is a file, DIR is a file, or DIR holds files of its own.
    """
    target = Path(out_dir).absolute()
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"{target}: cannot be written ({blocker} is a file, not a folder)")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder, expected a folder for the report")
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if p.name not in REPORT_FILES)
        if foreign:
            raise OutputError(
                f"{target}: holds files that are not part of a tf2bench report "
                f"({', '.join(foreign[:3])}), expected an empty folder or an earlier report"
            )
    return target


def _swap_into_place(staging: Path, target: Path) -> None:
    """Renames staging to target; an earlier report is moved aside first and then removed."""
    if not target.exists():
        staging.rename(target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    retired.rmdir()  # only the unique name is wanted; rename needs it free
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)  # put the earlier report back
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _reason(error: OSError) -> str:
    return error.strerror or error.__class__.__name__
