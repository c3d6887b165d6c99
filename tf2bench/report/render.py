"""The report as a document (text, tables, figures) -> Markdown, HTML and SVG files on disk.

The HTML page is self-contained: figures are inline SVG, tables sort with a few lines of inline
script, long ones are folded in <details>; it references nothing outside itself.

`write_report` (in `tf2bench.report.output`) builds the whole report in a temporary folder next
to the target and then renames it into place, so an existing report is replaced whole or not
at all.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

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

# Tables longer than this are folded into <details> so the page stays short.
FOLD_ROWS = 12
_SVG_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SVG_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


@dataclass
class Table:
    """A table of already formatted cells (strings)."""

    rows: pd.DataFrame
    caption: str = ""


@dataclass
class Plot:
    """A figure saved as figures/<name>.svg and inlined into the HTML page.

    `figure` is a matplotlib Figure or ready SVG markup (the small-multiple distributions).
    """

    name: str
    figure: Figure | str
    caption: str
    _svg: str | None = field(default=None, init=False, repr=False)

    @property
    def path(self) -> str:
        return f"figures/{self.name}.svg"

    @property
    def svg(self) -> str:
        """The SVG document (rendered once)."""
        if self._svg is None:
            if isinstance(self.figure, str):
                self._svg = self.figure
            else:
                buffer = io.StringIO()
                # Text stays text (not glyph paths): smaller, faster, and searchable on the page.
                with _svg_text_as_text():
                    self.figure.savefig(buffer, format="svg", metadata={"Date": None})
                self._svg = buffer.getvalue()
        return self._svg

    @property
    def inline_svg(self) -> str:
        """The SVG as an element for an HTML page: no XML prologue, metadata or namespaces
        (HTML parses inline <svg> in its own namespace), so the page links to nothing."""
        markup = _SVG_METADATA.sub("", _SVG_PROLOGUE.sub("", self.svg, count=1))
        return _SVG_NAMESPACES.sub("", markup)


def _svg_text_as_text():
    from matplotlib import rc_context

    return rc_context({"svg.fonttype": "none", "svg.hashsalt": "tf2bench"})


Block = str | list[str] | Table | Plot  # a paragraph, a bullet list, a table or a figure


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    question: str = ""  # the family's question, shown under the heading
    nav: str = ""  # the short name in the page's navigation ("" = the title)

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
    """The report as GitHub-flavoured Markdown; figures are linked as figures/<name>.svg.

    Every text passes through `_md`, so nothing from a record becomes raw HTML or a link.
    """
    lines = [f"# {_md(document.title)}", "", "## Answer at a glance", ""]
    lines += [f"- {_md(item)}" for item in document.summary] + [""]
    contents = " · ".join(f"[{_md(s.title)}](#{s.anchor})" for s in document.sections)
    lines += ["Contents: " + contents, ""]
    for section in document.sections:
        lines += [f"## {_md(section.title)}", ""]
        lines += [f"*{_md(section.question)}*", ""] if section.question else []
        for block in section.blocks:
            lines += _markdown_block(block) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _md(text: object) -> str:
    """Text safe in Markdown that renderers allow raw HTML in: no tag, no link can form.

    NOTE: `<` and `>` become entities everywhere, code spans included, because a renderer's
    idea of where a code span starts (backslashes, backtick runs) cannot be predicted from
    here; a name holding them then reads `&lt;` inside code, visibly but harmlessly.
    """
    escaped = str(text).replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("](", "]\\(")


def _markdown_block(block: Block) -> list[str]:
    if isinstance(block, str):
        return [_md(block)]
    if isinstance(block, list):
        return [f"- {_md(item)}" for item in block]
    if isinstance(block, Plot):
        caption = _md(block.caption)
        return [f"![{caption}]({block.path})", "", f"*{caption}*"]
    return _markdown_table(block)


def _markdown_table(table: Table) -> list[str]:
    def cell(value: object) -> str:
        return _md(value).replace("|", "\\|").replace("\n", " ")

    header = [cell(c) for c in table.rows.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows.itertuples(index=False)
    ]
    return lines + (["", f"*{_md(table.caption)}*"] if table.caption else [])


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; } h2 { margin-top: 2em; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
nav.families { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd;
       padding: 0.4em 0; font-size: 0.9em; z-index: 1; }
nav.families a { margin-right: 1em; white-space: nowrap; }
details { margin: 0.8em 0; } summary { cursor: pointer; color: #245; }
th.sortable { cursor: pointer; } th.sortable:after { content: " ⇅"; color: #aaa; }
.question { color: #555; font-style: italic; margin-top: -0.5em; }
figcaption, .caption { color: #555; font-size: 0.9em; font-style: italic; }
.summary { background: #f5f9ff; border-left: 4px solid #4a90d9; padding: 0.5em 1.5em; }
.summary h2 { margin-top: 0.4em; border: none; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""

# Click a header to sort by that column (numbers by value, "12.3 ms" by its number and unit).
SORT_SCRIPT = """
const UNITS = {ns: 1e-9, "µs": 1e-6, ms: 1e-3, s: 1, k: 1e3, M: 1e6, G: 1e9};
const NUMBER = /^\\s*([-+]?[0-9.]+(?:e[-+]?\\d+)?)\\s*(ns|µs|ms|s|k|M|G)?/;
function cellValue(text) {
  const m = text.replace(/,/g, "").match(NUMBER);
  return m ? parseFloat(m[1]) * (UNITS[m[2]] || 1) : null;
}
document.querySelectorAll("table.sortable th").forEach((th, column) => {
  th.classList.add("sortable");
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const up = th.dataset.order !== "up"; th.dataset.order = up ? "up" : "down";
    const rows = Array.from(body.rows).map(r => [r, r.cells[column].textContent]);
    rows.sort(([, a], [, b]) => {
      const x = cellValue(a), y = cellValue(b);
      const d = x !== null && y !== null ? x - y : a.localeCompare(b);
      return up ? d : -d;
    });
    rows.forEach(([r]) => body.appendChild(r));
  });
});
"""


def _inline(text: str) -> str:
    """Escapes text and renders the inline marks the report uses: `code`, **bold**, *italic*."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escaped)


def render_html(document: Document) -> str:
    """One self-contained HTML page: inline SVG figures, sortable tables, no external links."""
    links = " ".join(
        f'<a href="#{s.anchor}">{html.escape(s.nav or s.title)}</a>' for s in document.sections
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(document.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(document.title)}</h1>",
        '<div class="summary"><h2>Answer at a glance</h2><ul>',
        *(f"<li>{_inline(item)}</li>" for item in document.summary),
        "</ul></div>",
        f'<nav class="families">{links}</nav>',
    ]
    for section in document.sections:
        parts.append(f'<h2 id="{section.anchor}">{html.escape(section.title)}</h2>')
        if section.question:
            parts.append(f'<p class="question">{_inline(section.question)}</p>')
        parts += [_html_block(block) for block in section.blocks]
    parts.append(f"<script>{SORT_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{_inline(block)}</p>"
    if isinstance(block, list):
        return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block) + "</ul>"
    if isinstance(block, Plot):
        return (
            f'<figure id="figure-{block.name}">{block.inline_svg}'
            f"<figcaption>{_inline(block.caption)}</figcaption></figure>"
        )
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in block.rows.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in block.rows.itertuples(index=False)
    )
    caption = f'<div class="caption">{_inline(block.caption)}</div>' if block.caption else ""
    table = f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if len(block.rows) <= FOLD_ROWS:
        return table + caption
    summary = f"Show the table ({len(block.rows)} rows; click a header to sort)"
    return f"<details><summary>{summary}</summary>{table}{caption}</details>"


def write_report(
    document: Document,
    out_dir: str | os.PathLike[str],
    progress: Callable[[str], None] = lambda step: None,
) -> Path:
    """Writes the report folder safely; see `tf2bench.report.output.write_report`."""
    from tf2bench.report.output import write_report as write

    return write(document, out_dir, progress=progress)


def check_output(out_dir: str | os.PathLike[str]) -> Path:
    """The report folder, if one can be written there; see `tf2bench.report.output`."""
    from tf2bench.report.output import check_output as check

    return check(out_dir)
