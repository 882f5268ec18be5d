"""Read an OpenDocument text (ODT) body into layout blocks, in document order.

The same layout model as the DOCX and PDF readers, so the template parser
never knows the format. Walks content.xml directly (lxml, no entities, no
network): the intake has already checked the archive's inflation and that
no part declares a DTD.

What OpenDocument does differently from Word, and how it is read:
- a spanned cell is followed by `table:covered-table-cell` placeholders
  (one per covered column, possibly with `number-columns-repeated`): they
  become empty cells, so a merged cell's text is read once;
- spaces are markup (`text:s`, `text:tab`) and XML whitespace collapses;
- a list's nesting is the depth of `text:list` elements, not a property;
- a page break is a property of the paragraph's style (`fo:break-before`
  / `fo:break-after`), inherited through parent styles;
- check-box form controls live in `office:forms`, drawn by `draw:control`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from pipeline.ingest.readers import soft_breaks
from pipeline.model import Block, Cell, Layout, Line, PageBreak, Paragraph, Table

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "form": "urn:oasis:names:tc:opendocument:xmlns:form:1.0",
    "xml": "http://www.w3.org/XML/1998/namespace",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


# A repeat count is an attribute anyone can set to a billion: a real
# Writer table never repeats a covered cell or an empty row this often.
MAX_REPEAT = 256
_SOFT_HYPHEN = "\u00ad"
_WHITESPACE_RE = re.compile(r"[ \t\r\n]+")
_CHECKED = ("checked", "true")

_P, _H = _q("text:p"), _q("text:h")
_LIST, _LIST_ITEM, _LIST_HEADER = _q("text:list"), _q("text:list-item"), _q("text:list-header")
_TABLE, _ROW, _CELL, _COVERED = (_q("table:table"), _q("table:table-row"), _q("table:table-cell"),
                                 _q("table:covered-table-cell"))
# Containers whose content is read as if it stood in their place.
_TRANSPARENT = {_q("text:section"), _q("text:index-body"), _q("text:table-of-content"),
                _q("text:alphabetical-index"), _q("text:illustration-index"), _q("text:user-index"),
                _q("text:bibliography"), _q("text:object-index"), _q("text:table-index")}
_ROW_CONTAINERS = {_q("table:table-header-rows"), _q("table:table-rows"), _q("table:table-row-group")}
# Notes, comments, frames (logos, text boxes) and tracked deletions: not the body's text.
_SKIPPED = {_q("text:note"), _q("office:annotation"), _q("office:annotation-end"), _q("draw:frame"),
            _q("draw:a"), _q("text:tracked-changes"), _q("text:sequence-decls"), _q("office:forms"),
            _q("draw:custom-shape"), _q("draw:g"), _q("draw:rect"), _q("text:change-start")}


def read_odt(source: Path | BinaryIO) -> Layout:
    """An OpenDocument text, by path or as an open binary stream."""
    with zipfile.ZipFile(source) as archive:
        content = _parse(archive.read("content.xml"))
        names = set(archive.namelist())
        styles_root = _parse(archive.read("styles.xml")) if "styles.xml" in names else None
    styles = _Styles.of(content, styles_root)
    body = content.find(f"{_q('office:body')}/{_q('office:text')}")
    reader = _BodyReader(styles, _checkbox_states(body))
    if body is not None:
        reader.walk(body, list_depth=None)
    return Layout(blocks=reader.blocks, n_pages=None)


def _parse(data: bytes) -> etree._Element:
    """Parse one XML part with nothing resolved or fetched: the intake
    refuses DTDs, and this parser would not expand them anyway."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(data, parser)


@dataclass
class _Styles:
    """Page breaks of the paragraph and table styles, inheritance resolved."""

    parent: dict[str, str] = field(default_factory=dict)
    break_before: set[str] = field(default_factory=set)
    break_after: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, *roots: etree._Element | None) -> _Styles:
        styles = cls()
        for root in roots:
            if root is None:
                continue
            for style in root.iter(_q("style:style")):
                name = style.get(_q("style:name")) or ""
                parent = style.get(_q("style:parent-style-name"))
                if parent:
                    styles.parent[name] = parent
                for props in (style.find(_q("style:paragraph-properties")),
                              style.find(_q("style:table-properties"))):
                    if props is None:
                        continue
                    if props.get(_q("fo:break-before")) == "page":
                        styles.break_before.add(name)
                    if props.get(_q("fo:break-after")) == "page":
                        styles.break_after.add(name)
        return styles

    def breaks(self, name: str | None) -> tuple[bool, bool]:
        """(break before, break after) of a style or its nearest ancestor that says."""
        seen: set[str] = set()
        while name and name not in seen:
            seen.add(name)
            before, after = name in self.break_before, name in self.break_after
            if before or after:
                return before, after
            name = self.parent.get(name)
        return False, False


def _checkbox_states(body: etree._Element | None) -> dict[str, bool]:
    """Form check boxes by control id: checked or not."""
    states: dict[str, bool] = {}
    if body is None:
        return states
    for box in body.iter(_q("form:checkbox")):
        checked = (box.get(_q("form:current-state")) or box.get(_q("form:state")) or "") in _CHECKED
        for key in (box.get(_q("form:id")), box.get(_q("xml:id"))):
            if key:
                states[key] = checked
    return states


def _repeat(element: etree._Element, attribute: str) -> int:
    try:
        return min(max(int(element.get(_q(attribute), "1")), 1), MAX_REPEAT)
    except ValueError:
        return 1


class _BodyReader:
    def __init__(self, styles: _Styles, checkboxes: dict[str, bool]) -> None:
        self.styles = styles
        self.checkboxes = checkboxes
        self.blocks: list[Block] = []
        self.n_tables = 0

    def walk(self, container: etree._Element, list_depth: int | None) -> None:
        for child in container:
            tag = child.tag
            if tag in (_P, _H):
                self._paragraph(child, list_depth)
            elif tag == _TABLE:
                self._table(child)
            elif tag == _LIST:
                self.walk(child, 0 if list_depth is None else list_depth + 1)
            elif tag == _LIST_ITEM:
                self.walk(child, list_depth)
            elif tag == _LIST_HEADER:  # a list's unnumbered heading line: not an item
                self.walk(child, None)
            elif tag in _TRANSPARENT:
                self.walk(child, list_depth)

    def _paragraph(self, p: etree._Element, list_depth: int | None) -> None:
        before, after = self.styles.breaks(p.get(_q("text:style-name")))
        if before:
            self.blocks.append(PageBreak())
        heading = _heading_level(p)
        for line in self.lines(p, list_depth, in_cell=False):
            self.blocks.append(Paragraph(line=line, heading=heading))
        if after:
            self.blocks.append(PageBreak())

    def _table(self, table: etree._Element) -> None:
        before, after = self.styles.breaks(table.get(_q("table:style-name")))
        if before:
            self.blocks.append(PageBreak())
        index = self.n_tables
        self.n_tables += 1
        rows: list[list[Cell]] = []
        for tr in _rows(table):
            row: list[Cell] = []
            for cell in tr:
                if cell.tag == _CELL:
                    row.append(Cell(lines=self._cell_lines(cell)))
                    # A repeated cell in Writer is an empty one; its text, if any, is read once.
                    row.extend(Cell() for _ in range(_repeat(cell, "table:number-columns-repeated") - 1))
                elif cell.tag == _COVERED:  # covered by a span: its text is the spanning cell's
                    row.extend(Cell() for _ in range(_repeat(cell, "table:number-columns-repeated")))
            rows.extend([row] + [[Cell() for _ in row] for _ in range(_repeat(tr, "table:number-rows-repeated") - 1)])
        self.blocks.append(Table(rows=rows, index=index))
        if after:
            self.blocks.append(PageBreak())

    def _cell_lines(self, cell: etree._Element) -> list[Line]:
        """A cell's lines in order; a nested table's text joins the cell."""
        lines: list[Line] = []

        def collect(container: etree._Element, list_depth: int | None) -> None:
            for child in container:
                tag = child.tag
                if tag in (_P, _H):
                    lines.extend(self.lines(child, list_depth, in_cell=True))
                elif tag == _LIST:
                    collect(child, 0 if list_depth is None else list_depth + 1)
                elif tag == _LIST_ITEM:
                    collect(child, list_depth)
                elif tag == _LIST_HEADER:
                    collect(child, None)
                elif tag == _TABLE:
                    for tr in _rows(child):
                        for inner in tr:
                            if inner.tag == _CELL:
                                collect(inner, None)
                elif tag in _TRANSPARENT:
                    collect(child, list_depth)

        collect(cell, None)
        return lines

    def lines(self, p: etree._Element, list_depth: int | None, in_cell: bool) -> list[Line]:
        """The lines of one paragraph, cut at its line breaks (`soft_breaks.py`)."""
        pieces = "".join(self._text(p)).replace(_SOFT_HYPHEN, "").split("\n")
        return soft_breaks.paragraph_lines(pieces, list_depth, in_cell)

    def _text(self, element: etree._Element) -> Iterator[str]:
        """Visible text of a paragraph: XML whitespace collapses, spacing is markup."""
        if element.text:
            yield _WHITESPACE_RE.sub(" ", element.text)
        for child in element:
            tag = child.tag
            if tag == _q("text:s"):
                yield " " * _repeat(child, "text:c")
            elif tag == _q("text:tab"):
                yield " "
            elif tag == _q("text:line-break"):
                yield "\n"
            elif tag == _q("draw:control"):
                state = self.checkboxes.get(child.get(_q("draw:control")) or "")
                if state is not None:
                    yield "☒" if state else "☐"
            elif tag not in _SKIPPED and isinstance(tag, str):
                yield from self._text(child)
            if child.tail:
                yield _WHITESPACE_RE.sub(" ", child.tail)


def _rows(table: etree._Element) -> Iterator[etree._Element]:
    """A table's rows, through header-row and row-group wrappers (not nested tables)."""
    for child in table:
        if child.tag == _ROW:
            yield child
        elif child.tag in _ROW_CONTAINERS:
            yield from _rows(child)


def _heading_level(p: etree._Element) -> int:
    if p.tag != _H:
        return 0
    try:
        return max(int(p.get(_q("text:outline-level"), "1")), 1)
    except ValueError:
        return 1
