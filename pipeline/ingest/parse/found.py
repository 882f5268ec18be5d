"""What the template walker has read so far: the restitution being filled.

Each handler (introduction, data table, RETEX, fiche mesure) adds to it;
the walker turns it into the model's `Restitution` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.model import ActionRow, Item, Participant, SessionMeta


@dataclass
class Found:
    """The restitution so far, in the shapes the handlers fill."""

    meta: SessionMeta = field(default_factory=SessionMeta)
    # By category: the first row read for a category is the one kept.
    participants: dict[str, Participant] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    # The template's parts seen, items or not: the contract's sections and
    # the introduction, so that a document can be judged complete.
    sections: set[str] = field(default_factory=set)
