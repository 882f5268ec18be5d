"""Walk a document's layout and fill the typed restitution model.

Sections are found by what they say (headings, table headers, "RETEX n –",
"DESCRIPTION"), never by page or position, so reordered, split or merged
tables parse the same. An "Annexe" heading ends the restitution: annexes
(attached studies, local projects with tables of their own) give no items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.model import (
    ActionRow, Block, Cell, Item, Layout, Line, PageBreak, Paragraph, Participant,
    Restitution, SessionMeta, Table,
)
from pipeline.normalize.actors import actor_codes
from pipeline.normalize.departements import Departement, resolve_name, resolve_title
from pipeline.normalize.temporalite import temporalite_code
from pipeline.normalize.themes import UNKNOWN, ThemeMatch, resolve_theme
from pipeline.parse.columns import THEME, TableShape, column_role, table_shape
from pipeline.parse.fiches import Fiche, part_heading
from pipeline.parse.intro import complete_participants, is_intro_table, read_intro
from pipeline.text import fold, split_statements, starts_with_bullet, strip_bullet

REQUIRED_SECTIONS = ("diagnostic", "projection", "plan_action")
_RETEX_RE = re.compile(r"^\s*RETEX\s*(?:n\s*[°ºo]\s*)?\d+\s*[-–—:.)]\s*(\S.*)$", re.I)
_RETEX_THEME_RE = re.compile(r"^\s*th[ée]m(?:atique|e)s?(?: concern[ée]e)?\s*:\s*(.+)$", re.I)
_ANNEX_RE = re.compile(r"^(?:annexes?|pieces? jointes?)\b")
_PLACE_CODE_RE = re.compile(r"\((2[AB]|97[1-6]|\d{2})\)")


@dataclass
class _Para:
    lines: list[Line]
    heading: int

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines).strip()


_Unit = _Para | Table | PageBreak


def parse_layout(layout: Layout) -> Restitution:
    return _Walker(_units(layout.blocks)).run()


def _units(blocks: list[Block]) -> list[_Unit]:
    """Group reader lines into paragraphs: a line that does not start a
    paragraph belongs to the one before it."""
    units: list[_Unit] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            if not block.line.new_paragraph and units and isinstance(units[-1], _Para):
                units[-1].lines.append(block.line)
            else:
                units.append(_Para(lines=[block.line], heading=block.heading))
        else:
            units.append(block)
    return units


class _Walker:
    def __init__(self, units: list[_Unit]) -> None:
        self.units = units
        self.meta = SessionMeta()
        self.participants: dict[str, Participant] = {}
        self.items: list[Item] = []
        self.actions: list[ActionRow] = []
        self.sections: set[str] = set()
        self.last_shape: TableShape | None = None
        self.last_theme: tuple[str, ThemeMatch] | None = None
        self.fiche: Fiche | None = None
        self.n_fiches = 0
        self.n_retex = 0
        self.pending_fiche_heading: _Para | None = None

    def run(self) -> Restitution:
        for index, unit in enumerate(self.units):
            if isinstance(unit, PageBreak):
                if self.fiche:
                    self.fiche.page_break()
                    if self.fiche.ended:
                        self._close_fiche()
            elif isinstance(unit, Table):
                self._table(unit)
            elif self._paragraph(unit, index) == "stop":
                break
        self._close_fiche()
        if not self.meta.departement_code:
            self._departement_fallback()
        return Restitution(
            meta=self.meta,
            participants=complete_participants(self.participants),
            items=self.items,
            actions=self.actions,
            sections_found=self.sections,
        )

    # -- paragraphs --------------------------------------------------------

    def _paragraph(self, para: _Para, index: int) -> str | None:
        text = para.text
        folded = fold(text)
        if not folded:
            return None
        if _ANNEX_RE.match(folded) and len(folded.split()) <= 15:
            return "stop"
        if self.meta.title is None and not self.items:
            found = resolve_title(text)
            if found:
                self.meta.title = text
                self._set_departement(found)
                return None
        next_para = self._next_paragraph(index)
        if next_para is not None and part_heading(next_para.text) == "description" and not part_heading(text):
            self._close_fiche()
            self.pending_fiche_heading = para
            return None
        if part_heading(text) == "description" and (self.fiche is None or self.fiche.part != "description"):
            self._open_fiche()
            self.fiche.feed(para.lines, para.heading)
            return None
        if self.fiche:
            if self.fiche.closes_on(para.heading) and not part_heading(text):
                self._close_fiche()
            else:
                self.fiche.feed(para.lines, para.heading)
                return None
        retex = _RETEX_RE.match(text)
        if retex:
            self._retex(para, retex, index)
        elif para.heading:
            self.last_shape = None  # a new heading: the next table is not a continuation
        return None

    def _next_paragraph(self, index: int) -> _Para | None:
        for unit in self.units[index + 1:]:
            if isinstance(unit, _Para):
                return unit
            if isinstance(unit, Table):
                return None
        return None

    def _open_fiche(self) -> None:
        self._close_fiche()
        heading = self.pending_fiche_heading
        raw = strip_bullet(heading.text) if heading else ""
        self.fiche = Fiche(index=self.n_fiches, theme=resolve_theme(raw), theme_raw=raw)
        self.n_fiches += 1
        self.pending_fiche_heading = None

    def _close_fiche(self) -> None:
        if self.fiche is None:
            return
        found = self.fiche.items()
        if found:
            self.sections.add("fiche")
        self.items.extend(found)
        self.fiche = None

    def _retex(self, para: _Para, match: re.Match[str], index: int) -> None:
        title_lines = []
        theme_raw = ""
        for line in para.lines:  # a wrapped PDF title may have swallowed its theme line
            theme = _RETEX_THEME_RE.match(line.text)
            if theme:
                theme_raw = theme.group(1)
                break
            title_lines.append(line.text)
        title = _RETEX_RE.match(" ".join(title_lines)).group(1).strip() if title_lines else match.group(1)
        if not theme_raw:
            for unit in self.units[index + 1: index + 4]:
                if not isinstance(unit, _Para) or _RETEX_RE.match(unit.text):
                    break
                theme = _RETEX_THEME_RE.match(unit.text)
                if theme:
                    theme_raw = theme.group(1)
                    break
        resolved = resolve_theme(theme_raw) if theme_raw else ThemeMatch(UNKNOWN, 1.0, "non précisé")
        self.items.append(
            Item(
                section="retex", role="retex", text=" ".join(title.split()),
                theme=resolved.code, theme_raw=theme_raw.strip(), theme_confidence=resolved.confidence,
                table_index=None, row_index=self.n_retex, column=0, position=0,
                page=para.lines[0].page,
            )
        )
        self.n_retex += 1
        self.sections.add("retex")

    # -- tables ------------------------------------------------------------

    def _table(self, table: Table) -> None:
        if is_intro_table(table):
            read_intro(table, self.meta, self.participants)
            self.sections.add("intro")
            return
        shape = table_shape(table)
        first_row = shape.header_rows if shape else 0
        if shape is None:
            if self.last_shape is None or not table.rows or len(table.rows[0]) != len(self.last_shape.roles):
                return
            shape = self.last_shape  # a header-less continuation of the previous table
        else:
            self.last_theme = None
        self.last_shape = shape
        self.sections.add(shape.section)
        rows: list[tuple[int, list[Cell]]] = []
        for r in range(first_row, len(table.rows)):
            row = table.rows[r]
            if r in table.continued_rows and self._continues(shape, rows[-1][1] if rows else None, row):
                if rows:  # otherwise it is the rest of a header cut by the page break
                    rows[-1] = (rows[-1][0], _merge_rows(rows[-1][1], row))
                continue
            rows.append((r, row))
        for r, row in rows:
            self._row(table, shape, r, row)

    def _continues(self, shape: TableShape, previous: list[Cell] | None, row: list[Cell]) -> bool:
        """Whether a row opening a new page is the rest of the row above.

        Its theme cell decides: empty or starting in lower case, it goes
        on; naming no theme or the same theme as the row above, it is the
        label's tail ("…RESPONSABLE ET | SOUVERAIN"); naming another theme,
        it is a new row.
        """
        theme = _theme_text(shape, row)
        if not theme or theme[:1].islower():
            return True
        if previous is None:
            return False
        current = resolve_theme(theme).code
        return current == UNKNOWN or current == resolve_theme(_theme_text(shape, previous)).code

    def _row(self, table: Table, shape: TableShape, r: int, row: list[Cell]) -> None:
        cells: dict[str, list[tuple[int, Cell]]] = {}
        for k, role in enumerate(shape.roles):
            if role and k < len(row):
                cells.setdefault(role, []).append((k, row[k]))
        if _is_header_row(row):
            return
        theme_cells = cells.pop(THEME, [])
        theme_raw = " ".join(line.text for _, cell in theme_cells for line in cell.lines).strip()
        content = {
            role: [(k, split_statements(cell.lines)) for k, cell in columns]
            for role, columns in cells.items()
        }
        if not any(statements for columns in content.values() for _, statements in columns):
            return
        if theme_raw:
            match = resolve_theme(" ".join(strip_bullet(line.text) for _, c in theme_cells for line in c.lines))
            self.last_theme = (theme_raw, match)
        elif self.last_theme:  # a vertically merged theme cell: the row above's theme
            theme_raw, match = self.last_theme
        else:
            match = ThemeMatch(UNKNOWN, 0.0, "vide")
        page = table.page_of_row(r)
        for role, columns in content.items():
            for k, statements in columns:
                for position, statement in enumerate(statements):
                    self.items.append(
                        Item(
                            section=shape.section, role=role, text=statement.text,
                            theme=match.code, theme_raw=theme_raw, theme_confidence=match.confidence,
                            table_index=table.index, row_index=r, column=k, position=position,
                            page=statement.page or page,
                        )
                    )
        if shape.section == "plan_action":
            self.actions.append(_action_row(match.code, content, cells))

    # -- metadata ----------------------------------------------------------

    def _set_departement(self, found: Departement) -> None:
        self.meta.departement_code = found.code
        self.meta.departement = found.nom
        self.meta.academie = found.academie
        self.meta.region_academique = found.region_academique

    def _departement_fallback(self) -> None:
        """No DSDEN title: a "(72)" after the session place names it too."""
        code = _PLACE_CODE_RE.search(self.meta.session_place or "")
        found = resolve_name(code.group(1)) if code else None
        if found:
            self._set_departement(found)


def _theme_text(shape: TableShape, row: list[Cell]) -> str:
    return " ".join(
        strip_bullet(line.text) for k, role in enumerate(shape.roles)
        if role == THEME and k < len(row) for line in row[k].lines
    ).strip()


def _merge_rows(upper: list[Cell], lower: list[Cell]) -> list[Cell]:
    """Glue the two halves of a row cut by a page break, cell by cell."""
    merged = []
    for k in range(max(len(upper), len(lower))):
        lines = list(upper[k].lines) if k < len(upper) else []
        tail = list(lower[k].lines) if k < len(lower) else []
        if tail and lines:
            # The first line after the break continues the cut statement
            # unless it opens a new bullet.
            tail[0] = replace(tail[0], new_paragraph=starts_with_bullet(tail[0].text))
        merged.append(Cell(lines=lines + tail))
    return merged


def _is_header_row(row: list[Cell]) -> bool:
    roles = [column_role(cell.text) for cell in row if cell.text and len(cell.text) < 160]
    return THEME in roles and len({r for r in roles if r}) >= 3


def _action_row(theme: str, content, cells) -> ActionRow:
    def texts(role: str) -> list[str]:
        return [s.text for _, statements in content.get(role, []) for s in statements]

    def raw(role: str) -> str:
        return "\n".join(cell.text for _, cell in cells.get(role, []) if cell.text)

    acteurs_raw = " | ".join(texts("acteur"))
    temporalites = texts("temporalite")
    return ActionRow(
        theme=theme,
        quoi=texts("levier"),
        comment=texts("action"),
        acteurs=actor_codes("\n".join(texts("acteur"))),
        acteurs_raw=acteurs_raw,
        temporalite=temporalite_code(temporalites[0]) if temporalites else None,
        temporalite_raw=" | ".join(temporalites),
        indicateurs=texts("indicateur"),
    )
