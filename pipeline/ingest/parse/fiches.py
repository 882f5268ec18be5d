"""Fiches mesure: a theme heading, then DESCRIPTION, IMPACTS, MODALITES,
DIFFICULTÉS, EFFORTS, TEMPORALITÉ and BESOINS sub-sections.

Only four parts give items (CONTRACT.md): the résumé of DESCRIPTION
(`action`), DIFFICULTÉS (`difficulte`), TEMPORALITÉ (`temporalite`) and
BESOINS (`besoin`). "Territoire concerné" and "Référent du projet" close
the résumé. BESOINS is the template's last part: the fiche ends with it at
the next page break, where annexes usually begin.

A fiche is found by its DESCRIPTION heading; the paragraph just before it
names the fiche's theme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from pipeline.contract import Role, Section
from pipeline.ingest.normalize.themes import ThemeMatch, resolve_theme
from pipeline.ingest.parse.found import Found
from pipeline.ingest.parse.units import Ahead, Para
from pipeline.model import Item, Line
from pipeline.text import fold, split_statements, strip_bullet

# A part heading is a few words; a longer paragraph that opens with one
# ("Description du projet, mené avec…") is the part's text.
PART_HEADING_MAX_WORDS = 8


class Part(Enum):
    DESCRIPTION = "description"
    IMPACTS = "impacts"
    MODALITES = "modalites"
    DIFFICULTES = "difficultes"
    EFFORTS = "efforts"
    TEMPORALITE = "temporalite"
    BESOINS = "besoins"


# (part, pattern on the folded heading, role of its statements or None)
PARTS: list[tuple[Part, re.Pattern[str], Role | None]] = [
    (Part.DESCRIPTION, re.compile(r"^description\b"), Role.ACTION),
    (Part.IMPACTS, re.compile(r"^impacts?\b"), None),
    (Part.MODALITES, re.compile(r"^modalites\b"), None),
    (Part.DIFFICULTES, re.compile(r"^difficultes?\b(?: principales| rencontrees|\s*$)"), Role.DIFFICULTE),
    (Part.EFFORTS, re.compile(r"^efforts?\b"), None),
    (Part.TEMPORALITE, re.compile(r"^temporalite\b(?: necessaire|\s*:?\s*$)"), Role.TEMPORALITE),
    (Part.BESOINS, re.compile(r"^besoins? (?:necessaires?|pour perenniser)|^besoins\s*:?\s*$"), Role.BESOIN),
]
_ROLE = {part: role for part, _, role in PARTS}
_CLOSES_SUMMARY = re.compile(r"^(?:territoire|referent|porteur|contact|pilote)s?\b")
_SUMMARY_LABEL = re.compile(r"^\s*r[ée]sum[ée](?: de la mesure)?\s*:?\s*", re.I)


def part_heading(text: str) -> Part | None:
    """The fiche part a short heading opens, or None."""
    folded = fold(text).strip(" :")
    if len(folded.split()) > PART_HEADING_MAX_WORDS:
        return None
    for part, pattern, _ in PARTS:
        if pattern.search(folded):
            return part
    return None


@dataclass
class Fiche:
    index: int
    theme: ThemeMatch
    theme_raw: str
    part: Part = Part.DESCRIPTION
    part_level: int = 0  # highest (smallest) heading level of its parts, 0 = unknown
    summary_closed: bool = False
    lines: dict[Part, list[Line]] = field(default_factory=dict)

    def closes_on(self, heading: int) -> bool:
        """A heading above the fiche's own parts ends the fiche."""
        return 0 < heading < self.part_level

    def feed(self, lines: list[Line], heading: int = 0) -> None:
        """Take one paragraph of the fiche."""
        text = " ".join(line.text for line in lines).strip()
        part = part_heading(text)
        if part:
            self.part = part
            if heading:
                self.part_level = min(self.part_level or heading, heading)
            return
        if self.part is Part.DESCRIPTION:
            if self.summary_closed or _CLOSES_SUMMARY.match(fold(text)):
                self.summary_closed = True
                return
            first = lines[0]
            label = _SUMMARY_LABEL.match(first.text)
            if label:
                rest = first.text[label.end():]
                lines = ([Line(rest, level=first.level, page=first.page)] if rest.strip() else []) + lines[1:]
        if _ROLE[self.part]:
            self.lines.setdefault(self.part, []).extend(lines)

    def ends_at_page_break(self) -> bool:
        """BESOINS, once written, is the fiche's last part."""
        return self.part is Part.BESOINS and bool(self.lines.get(Part.BESOINS))

    def items(self) -> list[Item]:
        out: list[Item] = []
        for column, (part, _, role) in enumerate(PARTS):
            if role is None:
                continue
            lines = self.lines.get(part, [])
            for position, statement in enumerate(split_statements(lines)):
                out.append(
                    Item(
                        section=Section.FICHE, role=role, text=statement.text,
                        theme=self.theme.code, theme_raw=self.theme_raw,
                        theme_confidence=self.theme.confidence,
                        table_index=None, row_index=self.index, column=column, position=position,
                        page=statement.page,
                    )
                )
        return out


@dataclass
class Fiches:
    """The fiche mesure handler: the fiche being read, if any, and what
    the next one needs."""

    current: Fiche | None = None
    count: int = 0  # fiches opened so far: the next one's row_index
    # The paragraph just before a DESCRIPTION heading: the next fiche's theme.
    heading: Para | None = None

    def take(self, para: Para, ahead: Ahead, found: Found) -> bool:
        """Whether `para` belongs to a fiche: its theme heading, a part
        heading or a part's text. A heading above the fiche's parts closes
        the fiche and is left to the other handlers."""
        part = part_heading(para.text)
        following = ahead.next_paragraph()
        if part is None and following is not None and part_heading(following.text) is Part.DESCRIPTION:
            self.close(found)
            self.heading = para
            return True
        if part is Part.DESCRIPTION and (self.current is None or self.current.part is not Part.DESCRIPTION):
            self.current = self._open(found)
        elif self.current is None:
            return False
        elif part is None and self.current.closes_on(para.heading):
            self.close(found)
            return False
        self.current.feed(para.lines, para.heading)
        return True

    def page_break(self, found: Found) -> None:
        if self.current and self.current.ends_at_page_break():
            self.close(found)

    def close(self, found: Found) -> None:
        """Hand the fiche's items over; a fiche without any adds no section."""
        if self.current is None:
            return
        items = self.current.items()
        if items:
            found.sections.add(Section.FICHE)
        found.items.extend(items)
        self.current = None

    def _open(self, found: Found) -> Fiche:
        self.close(found)
        raw = strip_bullet(self.heading.text) if self.heading else ""
        fiche = Fiche(index=self.count, theme=resolve_theme(raw), theme_raw=raw)
        self.count += 1
        self.heading = None
        return fiche
