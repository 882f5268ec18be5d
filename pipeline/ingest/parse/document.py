"""Walk a document's layout and fill the typed restitution model.

Sections are found by what they say (headings, table headers, "RETEX n –",
"DESCRIPTION"), never by page or position, so reordered, split or merged
tables parse the same. An "Annexe" heading ends the restitution: annexes
(attached studies, local projects with tables of their own) give no items.

One handler per kind of unit: the introduction table (`intro.py`), data
tables (`data_tables.py`), RETEX titles (`retex.py`) and fiches mesure
(`fiches.py`); the walker hands each unit to them in turn and keeps what
belongs to the whole document (its title, the département, the annexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum, auto

from pipeline.contract import Section
from pipeline.ingest.normalize.departements import Departement, resolve_name, resolve_title
from pipeline.ingest.parse.data_tables import DataTables
from pipeline.ingest.parse.fiches import Fiches
from pipeline.ingest.parse.found import Found
from pipeline.ingest.parse.intro import complete_participants, take_intro
from pipeline.ingest.parse.retex import Retex
from pipeline.ingest.parse.units import Ahead, Para, Unit, group_units
from pipeline.model import Layout, PageBreak, Restitution, Table
from pipeline.text import fold

REQUIRED_SECTIONS = (Section.DIAGNOSTIC, Section.PROJECTION, Section.PLAN_ACTION)
_ANNEX_RE = re.compile(r"^(?:annexes?|pieces? jointes?)\b")
# An annex heading is short; a longer paragraph opening with "Annexe" is text.
ANNEX_HEADING_MAX_WORDS = 15
_PLACE_CODE_RE = re.compile(r"\((2[AB]|97[1-6]|\d{2})\)")


class Flow(Enum):
    """What the walk does after a unit."""

    NEXT = auto()  # go on with the next unit
    END = auto()  # the restitution is over (an annex heading): the rest is not read


@dataclass
class WalkState:
    """Everything the walk carries from one unit to the next."""

    found: Found = field(default_factory=Found)
    tables: DataTables = field(default_factory=DataTables)
    fiches: Fiches = field(default_factory=Fiches)
    retex: Retex = field(default_factory=Retex)


def parse_layout(layout: Layout) -> Restitution:
    units = group_units(layout.blocks)
    state = WalkState()
    for index, unit in enumerate(units):
        if _take(state, Ahead(units, index), unit) is Flow.END:
            break
    found = state.found
    state.fiches.close(found)
    if not found.meta.departement_code:
        _departement_fallback(found)
    return Restitution(
        meta=found.meta,
        participants=complete_participants(found.participants),
        items=found.items,
        actions=found.actions,
        sections_found=found.sections,
    )


def _take(state: WalkState, ahead: Ahead, unit: Unit) -> Flow:
    """Hand one unit to the handler of its kind."""
    if isinstance(unit, PageBreak):
        state.fiches.page_break(state.found)
    elif isinstance(unit, Table):
        if not take_intro(unit, state.found):
            state.tables.take(unit, state.found)
    else:
        return _paragraph(state, ahead, unit)
    return Flow.NEXT


def _paragraph(state: WalkState, ahead: Ahead, para: Para) -> Flow:
    """A paragraph goes to the first that takes it: the annexes (which end
    the walk), the document's title, a fiche mesure, a RETEX; the data
    tables hear of each (a heading ends a table's run, a theme named above
    a table may be its theme)."""
    folded = fold(para.text)
    if not folded:
        return Flow.NEXT
    if _ANNEX_RE.match(folded) and len(folded.split()) <= ANNEX_HEADING_MAX_WORDS:
        return Flow.END
    found = state.found
    taken = (_take_title(para, found) or state.fiches.take(para, ahead, found)
             or state.retex.take(para, ahead, found))
    state.tables.paragraph(para.text, heading=bool(para.heading), taken=taken)
    return Flow.NEXT


def _take_title(para: Para, found: Found) -> bool:
    """The DSDEN title before any item names the département."""
    if found.meta.title is not None or found.items:
        return False
    departement = resolve_title(para.text)
    if not departement:
        return False
    found.meta.title = para.text
    _set_departement(found, departement)
    return True


def _departement_fallback(found: Found) -> None:
    """No DSDEN title: a "(72)" after the session place names it too."""
    code = _PLACE_CODE_RE.search(found.meta.session_place or "")
    departement = resolve_name(code.group(1)) if code else None
    if departement:
        _set_departement(found, departement)


def _set_departement(found: Found, departement: Departement) -> None:
    found.meta.departement_code = departement.code
    found.meta.departement = departement.nom
    found.meta.academie = departement.academie
    found.meta.region_academique = departement.region_academique
