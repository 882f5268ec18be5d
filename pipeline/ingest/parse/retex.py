"""RETEX (retours d'expérience): a "RETEX n – title" paragraph and, on a
"Thématique :" line, its theme. The title is the item; a RETEX without a
theme line is of theme `inconnu`, said so ("non précisé")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.contract import Role, Section
from pipeline.ingest.normalize.themes import UNKNOWN, ThemeMatch, resolve_theme
from pipeline.ingest.parse.found import Found
from pipeline.ingest.parse.units import Ahead, Para, Unit
from pipeline.model import Item

_RETEX_RE = re.compile(r"^\s*RETEX\s*(?:n\s*[°ºo]\s*)?\d+\s*[-–—:.)]\s*(\S.*)$", re.I)
_RETEX_THEME_RE = re.compile(r"^\s*th[ée]m(?:atique|e)s?(?: concern[ée]e)?\s*:\s*(.+)$", re.I)
# A "Thématique :" paragraph of its own is looked for among the units
# right after the title, where the template puts it; further down, a
# paragraph is the RETEX's own text.
THEME_LINE_WINDOW = 3


@dataclass
class Retex:
    """The RETEX handler."""

    count: int = 0  # RETEX read so far: the next one's row_index

    def take(self, para: Para, ahead: Ahead, found: Found) -> bool:
        """Whether `para` is a RETEX title, whose item is then added."""
        title = _RETEX_RE.match(para.text)
        if not title:
            return False
        found.items.append(_item(para, title, ahead.following(THEME_LINE_WINDOW), self.count))
        found.sections.add(Section.RETEX)
        self.count += 1
        return True


def _item(para: Para, title: re.Match[str], following: list[Unit], number: int) -> Item:
    """The RETEX's item: its title, of the theme on a "Thématique :" line
    of the title paragraph or of a paragraph just after it."""
    lines = [line.text for line in para.lines]
    # A wrapped PDF title may have swallowed its theme line.
    themes = [_RETEX_THEME_RE.match(line) for line in lines]
    at = next((i for i, theme in enumerate(themes) if theme), len(lines))
    theme = themes[at] if at < len(lines) else None
    text = _title(lines[:at], lines[at + 1:]) or title.group(1)
    theme_raw = theme.group(1) if theme else _theme_after(following)
    resolved = resolve_theme(theme_raw) if theme_raw else ThemeMatch(UNKNOWN, 1.0, "non précisé")
    return Item(
        section=Section.RETEX, role=Role.RETEX, text=" ".join(text.split()),
        theme=resolved.code, theme_raw=theme_raw.strip(), theme_confidence=resolved.confidence,
        table_index=None, row_index=number, column=0, position=0,
        page=para.lines[0].page,
    )


def _title(before_theme: list[str], after_theme: list[str]) -> str:
    """The title's words: those after "RETEX n –" on the lines before the
    theme line, else the lines after it (a bare "RETEX 1 –" line, the
    "Thématique : …" line, then the title, in one paragraph)."""
    own = _RETEX_RE.match(" ".join(before_theme))
    return own.group(1).strip() if own else " ".join(after_theme).strip()


def _theme_after(following: list[Unit]) -> str:
    """The theme on a "Thématique :" paragraph of its own, before anything
    that is not a paragraph or another RETEX."""
    for unit in following:
        if not isinstance(unit, Para) or _RETEX_RE.match(unit.text):
            break
        theme = _RETEX_THEME_RE.match(unit.text)
        if theme:
            return theme.group(1)
    return ""
