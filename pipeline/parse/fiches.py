"""Fiches mesure: a theme heading, then DESCRIPTION, IMPACTS, MODALITES,
DIFFICULTÉS, EFFORTS, TEMPORALITÉ and BESOINS sub-sections.

Only four parts give items (CONTRACT.md): the résumé of DESCRIPTION
(`action`), DIFFICULTÉS (`difficulte`), TEMPORALITÉ (`temporalite`) and
BESOINS (`besoin`). "Territoire concerné" and "Référent du projet" close
the résumé. BESOINS is the template's last part: the fiche ends with it at
the next page break, where annexes usually begin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.model import Item, Line
from pipeline.normalize.themes import ThemeMatch
from pipeline.text import fold, split_statements

SECTION = "fiche"
# (part, pattern on the folded heading, role of its statements or None)
PARTS: list[tuple[str, re.Pattern[str], str | None]] = [
    ("description", re.compile(r"^description\b"), "action"),
    ("impacts", re.compile(r"^impacts?\b"), None),
    ("modalites", re.compile(r"^modalites\b"), None),
    ("difficultes", re.compile(r"^difficultes?\b(?: principales| rencontrees|\s*$)"), "difficulte"),
    ("efforts", re.compile(r"^efforts?\b"), None),
    ("temporalite", re.compile(r"^temporalite\b(?: necessaire|\s*:?\s*$)"), "temporalite"),
    ("besoins", re.compile(r"^besoins? (?:necessaires?|pour perenniser)|^besoins\s*:?\s*$"), "besoin"),
]
_ROLE = {part: role for part, _, role in PARTS}
_CLOSES_SUMMARY = re.compile(r"^(?:territoire|referent|porteur|contact|pilote)s?\b")
_SUMMARY_LABEL = re.compile(r"^\s*r[ée]sum[ée](?: de la mesure)?\s*:?\s*", re.I)


def part_heading(text: str) -> str | None:
    """The fiche part a short heading opens, or None."""
    folded = fold(text).strip(" :")
    if len(folded.split()) > 8:
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
    part: str = "description"
    part_level: int = 0  # highest (smallest) heading level of its parts, 0 = unknown
    summary_closed: bool = False
    ended: bool = False
    lines: dict[str, list[Line]] = field(default_factory=dict)

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
        if self.part == "description":
            if self.summary_closed or _CLOSES_SUMMARY.match(fold(text)):
                self.summary_closed = True
                return
            first = lines[0]
            label = _SUMMARY_LABEL.match(first.text)
            if label:
                rest = first.text[label.end():]
                lines = ([Line(rest, level=first.level, page=first.page)] if rest.strip() else []) + lines[1:]
        if _ROLE.get(self.part):
            self.lines.setdefault(self.part, []).extend(lines)

    def page_break(self) -> None:
        if self.part == "besoins" and self.lines.get("besoins"):
            self.ended = True

    def items(self) -> list[Item]:
        out: list[Item] = []
        for column, (part, _, role) in enumerate(PARTS):
            if role is None:
                continue
            lines = self.lines.get(part, [])
            for position, statement in enumerate(split_statements(lines)):
                out.append(
                    Item(
                        section=SECTION, role=role, text=statement.text,
                        theme=self.theme.code, theme_raw=self.theme_raw,
                        theme_confidence=self.theme.confidence,
                        table_index=None, row_index=self.index, column=column, position=position,
                        page=statement.page,
                    )
                )
        return out
