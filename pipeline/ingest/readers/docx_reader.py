"""Read a DOCX body into layout blocks, in document order.

Works on the XML rather than python-docx's high-level objects because the
templates use what those objects hide (FIELD-NOTES): tables wrapped in
content controls, text inside inline content controls, check-box controls,
merged cells that `row.cells` would repeat, and nested tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import docx
from docx.oxml.ns import qn
from lxml.etree import _Element

from pipeline.ingest.readers import soft_breaks
from pipeline.model import Block, Cell, Layout, Line, PageBreak, Paragraph, Table

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
_W14_CHECKBOX = f"{{{W14}}}checkbox"
_W14_CHECKED = f"{{{W14}}}checked"
_W14_VAL = f"{{{W14}}}val"

# Wingdings code points Word uses for check boxes typed as symbols.
_SYMBOLS = {"F0FE": "☒", "F078": "☒", "F0FD": "☒", "F0A8": "☐", "F06F": "☐", "F071": "☐"}
_HEADING_RE = re.compile(r"(?:heading|titre|überschrift)\s*(\d)", re.I)
_TRANSPARENT = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:smartTag")}
# Drawings and text boxes hold logos and cover art, and Word stores them
# twice (mc:Choice and mc:Fallback): their text is not the document's.
# A tracked move keeps the moved text at its old place too (w:moveFrom,
# in w:t like any text): only its new place (w:moveTo) is read.
_SKIPPED = {qn("w:delText"), qn("w:instrText"), qn("w:pPr"), qn("w:rPr"), qn("w:del"), qn("w:moveFrom"),
            qn("w:drawing"), qn("w:pict"), qn("w:object"),
            "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"}


def read_docx(source: Path | BinaryIO) -> Layout:
    """A DOCX file, by path or as an open binary stream."""
    document = docx.Document(str(source) if isinstance(source, Path) else source)
    styles = _StyleInfo(document)
    reader = _BodyReader(styles)
    reader.walk(document.element.body)
    return Layout(blocks=reader.blocks, n_pages=None)


class _StyleInfo:
    """Heading level and list-ness of each paragraph style, by style id."""

    def __init__(self, document: docx.document.Document) -> None:
        self.heading: dict[str, int] = {}
        self.listed: dict[str, int] = {}  # list styles and their nesting level
        for style in document.styles.element.findall(qn("w:style")):
            style_id = style.get(qn("w:styleId")) or ""
            name_el = style.find(qn("w:name"))
            name = name_el.get(qn("w:val")) if name_el is not None else ""
            match = _HEADING_RE.search(name or "") or _HEADING_RE.search(style_id)
            ppr = style.find(qn("w:pPr"))
            if match:
                self.heading[style_id] = int(match.group(1))
            elif ppr is not None and ppr.find(qn("w:outlineLvl")) is not None:
                level = int(ppr.find(qn("w:outlineLvl")).get(qn("w:val"), "9"))
                if level < 9:
                    self.heading[style_id] = level + 1
            numpr = ppr.find(qn("w:numPr")) if ppr is not None else None
            if numpr is not None:
                ilvl = numpr.find(qn("w:ilvl"))
                self.listed[style_id] = int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0


def _children(element: _Element, *tags: str) -> Iterator[_Element]:
    """Children with the given tags, looking through content controls."""
    for child in element:
        if child.tag in _TRANSPARENT:
            yield from _children(child, *tags)
        elif child.tag in tags:
            yield child


class _BodyReader:
    def __init__(self, styles: _StyleInfo) -> None:
        self.styles = styles
        self.blocks: list[Block] = []
        self.n_tables = 0

    def walk(self, body: _Element) -> None:
        for child in _children(body, qn("w:p"), qn("w:tbl")):
            if child.tag == qn("w:tbl"):
                self.blocks.append(self._table(child))
            else:
                self._paragraph(child)

    def _paragraph(self, p: _Element) -> None:
        ppr = p.find(qn("w:pPr"))
        if ppr is not None and ppr.find(qn("w:pageBreakBefore")) is not None:
            self.blocks.append(PageBreak())
        style_id = _style_id(ppr)
        heading = self.styles.heading.get(style_id, 0)
        for line in paragraph_lines(p, self.styles, in_cell=False):
            self.blocks.append(Paragraph(line=line, heading=heading))
        if _has_page_break(p) or (ppr is not None and ppr.find(qn("w:sectPr")) is not None):
            self.blocks.append(PageBreak())

    def _table(self, tbl: _Element) -> Table:
        index = self.n_tables
        self.n_tables += 1
        rows: list[list[Cell]] = []
        for tr in _children(tbl, qn("w:tr")):
            row: list[Cell] = []
            trpr = tr.find(qn("w:trPr"))
            row.extend(Cell() for _ in range(_grid_value(trpr, "w:gridBefore")))
            for tc in _children(tr, qn("w:tc")):
                tcpr = tc.find(qn("w:tcPr"))
                span = _grid_value(tcpr, "w:gridSpan") or 1
                merged_below = _is_vmerge_continue(tcpr)
                cell = Cell() if merged_below else Cell(lines=self._cell_lines(tc))
                row.append(cell)
                row.extend(Cell() for _ in range(span - 1))
            row.extend(Cell() for _ in range(_grid_value(trpr, "w:gridAfter")))
            rows.append(row)
        return Table(rows=rows, index=index)

    def _cell_lines(self, tc: _Element) -> list[Line]:
        lines: list[Line] = []
        for child in _children(tc, qn("w:p"), qn("w:tbl")):
            if child.tag == qn("w:p"):
                lines.extend(paragraph_lines(child, self.styles, in_cell=True))
            else:  # a nested table: its text belongs to this cell, in order
                for tr in _children(child, qn("w:tr")):
                    for inner in _children(tr, qn("w:tc")):
                        lines.extend(self._cell_lines(inner))
        return lines


def paragraph_lines(p: _Element, styles: _StyleInfo, in_cell: bool) -> list[Line]:
    """The lines of one paragraph, cut at its soft line breaks (`soft_breaks.py`)."""
    return soft_breaks.paragraph_lines("".join(_runs_text(p)).split("\n"), _list_level(p.find(qn("w:pPr")), styles),
                                       in_cell)


def _runs_text(element: _Element) -> Iterator[str]:
    """Visible text of a paragraph, with check-box controls as ☒/☐."""
    for child in element:
        tag = child.tag
        if tag == qn("w:sdt"):
            box = child.find(f"{qn('w:sdtPr')}/{_W14_CHECKBOX}")
            if box is not None:
                checked = box.find(_W14_CHECKED)
                yield "☒" if checked is not None and checked.get(_W14_VAL) in ("1", "true") else "☐"
                continue
            yield from _runs_text(child)
        elif tag == qn("w:t"):
            yield child.text or ""
        elif tag == qn("w:tab"):
            yield " "
        elif tag in (qn("w:br"), qn("w:cr")):
            if child.get(qn("w:type")) not in ("page", "column"):
                yield "\n"
        elif tag == qn("w:noBreakHyphen"):  # Ctrl+Shift+-: a hyphen the line may not break at
            yield "-"
        elif tag == qn("w:sym"):
            yield _SYMBOLS.get((child.get(qn("w:char")) or "").upper(), "")
        elif tag in _SKIPPED:
            continue
        elif len(child):
            yield from _runs_text(child)


def _style_id(ppr: _Element | None) -> str:
    if ppr is None:
        return ""
    style = ppr.find(qn("w:pStyle"))
    return style.get(qn("w:val"), "") if style is not None else ""


def _list_level(ppr: _Element | None, styles: _StyleInfo) -> int | None:
    if ppr is None:
        return None
    numpr = ppr.find(qn("w:numPr"))
    if numpr is not None:
        ilvl = numpr.find(qn("w:ilvl"))
        num_id = numpr.find(qn("w:numId"))
        if num_id is not None and num_id.get(qn("w:val")) == "0":
            return None  # numbering explicitly removed
        return int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
    return styles.listed.get(_style_id(ppr))


def _has_page_break(p: _Element) -> bool:
    return any(br.get(qn("w:type")) == "page" for br in p.iter(qn("w:br")))


def _grid_value(props: _Element | None, tag: str) -> int:
    if props is None:
        return 0
    el = props.find(qn(tag))
    value = el.get(qn("w:val")) if el is not None else None
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _is_vmerge_continue(tcpr: _Element | None) -> bool:
    if tcpr is None:
        return False
    vmerge = tcpr.find(qn("w:vMerge"))
    return vmerge is not None and vmerge.get(qn("w:val"), "continue") == "continue"
