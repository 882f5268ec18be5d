"""The units the template walker steps through: paragraphs, tables, page breaks.

Readers give lines; the template speaks in paragraphs (a heading, a RETEX
title, a fiche's part), so lines are grouped first.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.model import Block, Line, PageBreak, Paragraph, Table


@dataclass
class Para:
    lines: list[Line]
    heading: int  # heading level when the reader knows it, 0 otherwise

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines).strip()


Unit = Para | Table | PageBreak


def group_units(blocks: list[Block]) -> list[Unit]:
    """Group reader lines into paragraphs: a line that does not start a
    paragraph belongs to the one before it."""
    units: list[Unit] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            last = units[-1] if units else None
            if not block.line.new_paragraph and isinstance(last, Para):
                last.lines.append(block.line)
            else:
                units.append(Para(lines=[block.line], heading=block.heading))
        else:
            units.append(block)
    return units


@dataclass(frozen=True)
class Ahead:
    """What comes after the unit being handled, for the handlers that must
    look ahead: a fiche's theme heading is known by the DESCRIPTION below
    it, a RETEX's theme may be on the paragraphs after its title."""

    units: list[Unit]
    index: int  # of the unit being handled

    def next_paragraph(self) -> Para | None:
        """The next paragraph, across page breaks; None when a table or
        the end comes first."""
        for unit in self.units[self.index + 1:]:
            if isinstance(unit, Para):
                return unit
            if isinstance(unit, Table):
                return None
        return None

    def following(self, n: int) -> list[Unit]:
        """The next `n` units, whatever they are."""
        return self.units[self.index + 1: self.index + 1 + n]
