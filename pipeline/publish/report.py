"""The national synthesis as one self-contained French HTML page.

Ministry analysts open it from a shared folder or an e-mail, often
offline, on a desk or a phone, and print it: so the page loads nothing
from anywhere (no CDN, no web font, no remote image; a
Content-Security-Policy says so to the browser too), its stylesheet and
its one small script are inlined, and the policy admits exactly those two
by their SHA-256, computed here at render time. Its charts are inline SVG
laid out here. Every text that comes from a document is HTML-escaped by
the templates' autoescaping, since a restitution is untrusted input.

This module builds small typed views of the tables (`report_view`); the
Jinja2 templates under `pipeline/publish/templates/` only render them. The
figures are those of the contract's aggregates (one current file per
département, see `pipeline.tables.aggregate`); the recurring statements come from
`pipeline.tables.recurring`. Each quoted statement links to its source file (and
page, for a PDF) under `raw_link_prefix`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pipeline.contract import CLASSIFIED_ROLES, PARTICIPANT_CATEGORIES, TEMPORALITES, UNKNOWN_THEME_REASON
from pipeline.ingest.normalize.departements import (
    FILE_NAME_BASIS,
    Departement,
    Guess,
    departements,
    guess_from_file_name,
    read_guess,
)
from pipeline.ingest.normalize.themes import THEMES, UNKNOWN
from pipeline.labels import (
    PARTICIPANT_LABELS,
    ROLE_PLURALS,
    SECTION_LABELS,
    TEMPORALITE_LABELS,
    THEME_LABELS,
    THEME_SHORT_LABELS,
    actor_labels,
    category_labels,
    label,
    status_label,
)
from pipeline.tables.aggregate import MATRIX_ROLES, counted_ids
from pipeline.tables.schemas import COLUMNS
from pipeline.text import fold

# A table row as pandas gives it (to_dict("records")).
Row = dict[Hashable, Any]

TITLE = "Synthèse nationale des restitutions"
SUBTITLE = "États généraux du numérique pour l'éducation — sessions départementales de l'automne 2020"

# How many recurring groups each role shows before « voir les autres »
# (the rest stay one click away), in the order the roles are shown.
RECURRING_SHOWN = {"irritant": 5, "besoin": 3, "levier": 5, "point_fort": 3, "action": 3, "difficulte": 3}
TOP_CATEGORIES = 6
# A département's own statements: what its restitution says, not the
# plan d'action's actor, time-frame and indicator columns.
DEPARTEMENT_ROLES = ["retex", *CLASSIFIED_ROLES]

# Colour-blind-safe colours (Okabe–Ito) and a single-hue blue scale: they
# stay apart in grey scale, and the text drawn on them keeps its contrast.
BAR_COLOUR = "#1f5fa8"
TIME_COLOURS = {"court": "#0072B2", "moyen": "#E69F00", "long": "#009E73", "": "#8c8c8c"}
TIME_TEXT = {"court": "#ffffff", "moyen": "#1a1a1a", "long": "#ffffff", "": "#ffffff"}
HEAT_LOW, HEAT_HIGH = (240, 244, 252), (8, 48, 107)



# --------------------------------------------------------------------------
# French formatting
# --------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    """Nothing to show: a gap in a table (None, NaN, pandas' NA) or empty text."""
    return value == "" if isinstance(value, str) else bool(pd.isna(value))


def fr_number(value: float | int) -> str:
    """French digit grouping with a narrow no-break space: 12 345."""
    return f"{int(value):,}".replace(",", "\u202f")


def fr_percent(share: float) -> str:
    return f"{round(share * 100):d}\u202f%"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 département », « 2 départements »: French agreement (0 and 1 are singular)."""
    return f"{fr_number(n)} {singular if n <= 1 else plural_form or singular + 's'}"


def fr_date(iso: object) -> str:
    """« 2020-10-14 » as French readers write it: 14/10/2020 (anything else unchanged)."""
    text = "" if _missing(iso) else str(iso)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def source_href(prefix: str, source_file: str, page: Any = None) -> str:
    """Link to a source file under the raw folder, at its page when known (PDF viewers read #page=N)."""
    href = prefix + quote(str(source_file))
    if not _missing(page):
        href += f"#page={int(float(page))}"
    return href


def _is(value: object, truth: bool) -> bool:
    """A boolean column's value, whether the table was built in memory
    (bool, numpy bool) or read back from a CSV file ("true"/"false")."""
    return str(value).lower() == str(truth).lower()


def _page_note(page: Any) -> str:
    return "" if _missing(page) else f"p.\u00a0{int(float(page))}"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------
# The tables, and the look-ups every view needs, built once
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass
class _Data:
    tables: dict[str, pd.DataFrame]
    recurring: pd.DataFrame
    prefix: str
    counted: set[str]
    documents: dict[str, Row]  # by document_id
    items: dict[str, Row]  # by item_id, in the table's order
    dep_names: dict[str, str]

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame(columns=COLUMNS.get(name, [])))

    def counted_rows(self, name: str) -> pd.DataFrame:
        frame = self.table(name)
        return frame[frame["document_id"].isin(self.counted)] if "document_id" in frame else frame

    def dep_label(self, key: str) -> str:
        """« 72 Sarthe », or the file name for a document of unknown département."""
        if key.startswith("doc:"):
            return self.documents.get(key[4:], {}).get("source_file") or key
        name = self.dep_names.get(key)
        return f"{key} {name}" if name else key

    def file_link(self, source_file: str) -> Link:
        return Link(source_file, source_href(self.prefix, source_file))

    def item_href(self, item: Row) -> str:
        document = self.documents.get(item["document_id"], {})
        return source_href(self.prefix, document.get("source_file", ""), item.get("page"))


def _data(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame, prefix: str) -> _Data:
    documents = tables.get("documents", pd.DataFrame(columns=COLUMNS["documents"]))
    items = tables.get("items", pd.DataFrame(columns=COLUMNS["items"]))
    doc_rows = documents.to_dict("records")
    dep_names = {row["departement_code"]: row["departement"] for row in doc_rows
                 if not _missing(row.get("departement_code")) and not _missing(row.get("departement"))}
    return _Data(
        tables, recurring, prefix, counted_ids(documents) if not documents.empty else set(),
        {row["document_id"]: row for row in doc_rows if not _missing(row.get("document_id"))},
        {row["item_id"]: row for row in items.to_dict("records")}, dep_names,
    )


def _dep_key(item: Row) -> str:
    code = item.get("departement_code")
    return "doc:" + str(item["document_id"]) if _missing(code) else str(code)


# --------------------------------------------------------------------------
# Charts: the layout of inline SVG drawings, which the templates draw
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str  # written after the bar
    detail: str = ""  # added to the tooltip only


@dataclass(frozen=True)
class BarRow:
    label: str  # as drawn (truncated)
    tooltip: str
    note: str
    y: int
    length: float


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    label_width: int
    bar_height: int
    colour: str
    rows: list[BarRow]


LABEL_LIMIT = 44
CHAR_WIDTH = 7.6  # average width of a character of the 13 px chart font, for layout
BAR_ROW = 26


def bar_chart(bars: list[Bar], title: str, bar_width: int = 250, label_chars: int = 0) -> BarChart:
    """A horizontal bar chart; the value of each bar is also written after it.

    Label and note columns are as wide as their longest text (at least
    `label_chars` characters, so that charts shown side by side share one
    scale), and nothing is clipped whatever the taxonomy's labels become.
    """
    longest = max([label_chars, *(len(_truncate(bar.label, LABEL_LIMIT)) for bar in bars)])
    label_width = round(min(longest, LABEL_LIMIT) * CHAR_WIDTH) + 14
    note_width = round(max((len(bar.note) for bar in bars), default=0) * CHAR_WIDTH) + 16
    top = max((bar.value for bar in bars), default=0) or 1
    rows = [
        BarRow(_truncate(bar.label, LABEL_LIMIT), f"{bar.label} : {bar.note}" + (f" · {bar.detail}" if bar.detail else ""),
               bar.note, i * BAR_ROW + 3, round(max(bar.value / top * bar_width, 1.5 if bar.value else 0), 1))
        for i, bar in enumerate(bars)
    ]
    return BarChart(title, label_width + bar_width + note_width, BAR_ROW * len(bars) + 6, label_width, BAR_ROW - 8,
                    BAR_COLOUR, rows)


@dataclass(frozen=True)
class Swatch:
    colour: str
    label: str


@dataclass(frozen=True)
class HeatColumn:
    x: float
    y: int
    lines: list[str]


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    fill: str
    ink: str
    text: str
    tooltip: str


@dataclass(frozen=True)
class HeatMap:
    title: str
    width: int
    height: int
    label_width: int
    cell_width: int
    cell_height: int
    columns: list[HeatColumn]
    rows: list[tuple[int, str]]  # (y, label)
    cells: list[HeatCell]
    legend: list[Swatch]


def _heat_colour(share: float) -> str:
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(HEAT_LOW, HEAT_HIGH))
    return f"#{r:02x}{g:02x}{b:02x}"


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(byte: int) -> float:
        c = byte / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _ink_on(fill: str) -> str:
    """Dark or white text, whichever contrasts more with the fill (WCAG ratio)."""
    lum = _luminance(fill)
    return "#1a1a1a" if (lum + 0.05) / (_luminance("#1a1a1a") + 0.05) >= 1.05 / (lum + 0.05) else "#ffffff"


def _two_lines(text: str, width: int = 13) -> list[str]:
    """Split a column header on the space nearest its middle when it is too long for one line."""
    if len(text) <= width or " " not in text:
        return [text]
    cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - len(text) / 2))
    return [text[:cut], text[cut + 1:]]


def heat_map(rows: list[tuple[str, list[tuple[int, int]]]], title: str) -> HeatMap:
    """Départements × themes; each cell writes « irritants + leviers » and is coloured by their sum."""
    label_width, cell_w, cell_h, head = 210, 120, 22, 40
    top = max((i + lv for _, cells in rows for i, lv in cells), default=0) or 1
    columns = []
    for j, theme in enumerate(THEMES):
        lines = _two_lines(THEME_SHORT_LABELS[theme])
        columns.append(HeatColumn(label_width + j * cell_w + cell_w / 2, head - 6 - 14 * (len(lines) - 1), lines))
    cells, labels = [], []
    for i, (row_label, counts) in enumerate(rows):
        y = head + i * cell_h
        labels.append((y, _truncate(row_label, 30)))
        for j, (theme, (irritants, leviers)) in enumerate(zip(THEMES, counts)):
            fill = _heat_colour((irritants + leviers) / top)
            tip = f"{row_label} — {THEME_LABELS[theme]} : {plural(irritants, 'irritant')}, {plural(leviers, 'levier')}"
            cells.append(HeatCell(label_width + j * cell_w, y, fill, _ink_on(fill), f"{irritants} + {leviers}", tip))
    legend = [Swatch(_heat_colour(step / 4), fr_number(round(top * step / 4))) for step in range(5)]
    return HeatMap(title, label_width + cell_w * len(THEMES), head + cell_h * len(rows) + 2, label_width, cell_w, cell_h,
                   columns, labels, cells, legend)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    fill: str
    ink: str
    text: str  # the count, when the segment is wide enough to hold it
    tooltip: str


@dataclass(frozen=True)
class StackedRow:
    label: str
    y: int
    segments: list[Segment]


@dataclass(frozen=True)
class StackedBars:
    title: str
    width: int
    height: int
    label_width: int
    bar_height: int
    rows: list[StackedRow]
    legend: list[Swatch]


def stacked_bars(rows: list[tuple[str, Counter[str]]], title: str) -> StackedBars:
    """One horizontal bar per row, split by time frame (court, moyen, long, non précisé)."""
    label_width, bar_width, row = 200, 440, 30
    drawn = []
    for i, (row_label, counts) in enumerate(rows):
        total, x, segments = sum(counts.values()), float(label_width), []
        for key in [*TEMPORALITES, ""]:
            if counts.get(key, 0):
                n = counts[key]
                w = n / total * bar_width
                segments.append(Segment(round(x, 1), round(w, 1), TIME_COLOURS[key], TIME_TEXT[key],
                                        str(n) if w >= 22 else "",
                                        f"{row_label} — {TEMPORALITE_LABELS[key]} : {plural(n, 'action')}"))
                x += w
        drawn.append(StackedRow(row_label, i * row + 2, segments))
    legend = [Swatch(TIME_COLOURS[key], TEMPORALITE_LABELS[key]) for key in [*TEMPORALITES, ""]]
    return StackedBars(title, label_width + bar_width + 10, row * len(rows) + 4, label_width, row - 8, drawn, legend)


# --------------------------------------------------------------------------
# Recurring statements
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    text: str
    sources: list[Link]


@dataclass(frozen=True)
class RecurringView:
    """One recurring statement: its representative quoted and linked, the
    départements that raised it, and every wording with its sources."""

    quote: Link
    where: str  # « 31 Haute-Garonne, p. 6 »: the occurrence quoted
    theme: str  # short theme label, when the statement is shown outside its theme
    n_departements: int
    departements: list[str]
    n_occurrences: int
    wordings: list[Wording]


@dataclass(frozen=True)
class RecurringRole:
    role: str
    heading: str  # « Irritants »
    shown: list[RecurringView]
    more: list[RecurringView]  # behind « voir les autres »


def _where(data: _Data, item: Row) -> str:
    page = _page_note(item.get("page"))
    return data.dep_label(_dep_key(item)) + (f", {page}" if page else "")


def _source_links(data: _Data, members: list[Row]) -> list[Link]:
    """One link per occurrence; the section tells apart two occurrences of one
    département (a statement often recurs from the diagnostic to the projection)."""
    places = [_where(data, m) for m in members]
    repeated = {place for place in places if places.count(place) > 1}
    return [Link(place + (f" ({label(SECTION_LABELS, member.get('section'))})" if place in repeated else ""),
                 data.item_href(member))
            for member, place in zip(members, places)]


def recurring_view(data: _Data, group: Row, show_theme: bool = False) -> RecurringView | None:
    members = [data.items[i] for i in group["item_ids"] if i in data.items]
    if not members:
        return None
    ordered = sorted(members, key=lambda m: (_dep_key(m), m["item_id"]))
    shown = next((m for m in ordered if m["text"] == group["representative"]), ordered[0])
    by_text: dict[str, list[Row]] = {}
    for member in ordered:
        by_text.setdefault(member["text"], []).append(member)
    wordings = [Wording(text, _source_links(data, found))
                for text, found in sorted(by_text.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    return RecurringView(
        Link(group["representative"], data.item_href(shown)), _where(data, shown),
        label(THEME_SHORT_LABELS, group["theme"]) if show_theme else "", int(group["n_departements"]),
        [data.dep_label(key) for key in group["departements"]], len(members), wordings,
    )


def _groups(data: _Data, theme: str | None = None, role: str | None = None) -> list[Row]:
    frame = data.recurring
    if theme is not None:
        frame = frame[frame["theme"] == theme]
    if role is not None:
        frame = frame[frame["role"] == role]
    return frame.to_dict("records")


def _recurring_views(data: _Data, groups: list[Row], show_theme: bool = False) -> list[RecurringView]:
    return [view for group in groups if (view := recurring_view(data, group, show_theme)) is not None]


def recurring_roles(data: _Data, theme: str) -> list[RecurringRole]:
    """A theme's recurring statements, role by role: the first few shown, every other one reachable."""
    roles = []
    for role, limit in RECURRING_SHOWN.items():
        views = _recurring_views(data, _groups(data, theme, role))
        if views:
            roles.append(RecurringRole(role, label(ROLE_PLURALS, role), views[:limit], views[limit:]))
    return roles


# --------------------------------------------------------------------------
# Summary and themes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: int
    label: str
    detail: str = ""


def _count(n: int, singular: str, plural_form: str, detail: str = "") -> Figure:
    """A key figure whose label agrees with its number (« 1 partiel », « 2 partiels »)."""
    return Figure(n, singular if n <= 1 else plural_form, detail)


@dataclass(frozen=True)
class SummaryView:
    figures: list[Figure]
    top_irritants: list[RecurringView]


def _status_counts(data: _Data) -> Counter[str]:
    return Counter(data.table("documents")["status"])


def summary_view(data: _Data) -> SummaryView:
    """Key figures and the three irritants most départements share."""
    statuses = _status_counts(data)
    participants = data.table("participants_summary")
    n_people = int(pd.to_numeric(participants["total_count"]).sum()) if not participants.empty else 0
    figures = [
        _count(len(data.counted), "département pris en compte", "départements pris en compte",
               "une restitution en vigueur par département"),
        _count(sum(statuses.values()), "fichier reçu", "fichiers reçus",
               f"{plural(statuses['ok'], 'intégré')}, {plural(statuses['partial'], 'partiel')}, "
               f"{plural(statuses['rejected'], 'rejeté')}"),
        _count(len(data.counted_rows("items")), "énoncé analysé", "énoncés analysés",
               "irritants, points forts, besoins, leviers, actions…"),
        _count(len(data.counted_rows("actions")), "action de plan d'action", "actions de plans d'action"),
        _count(n_people, "participant déclaré", "participants déclarés", "nombres indiqués dans les restitutions"),
        _count(len(data.recurring), "énoncé récurrent", "énoncés récurrents",
               "idées exprimées par au moins deux départements"),
    ]
    return SummaryView(figures, _recurring_views(data, _groups(data, role="irritant")[:3], show_theme=True))


@dataclass(frozen=True)
class RoleCount:
    label: str  # « irritants »
    n_items: int
    n_departements: int


@dataclass(frozen=True)
class ThemeView:
    code: str
    index: int
    title: str
    counts: list[RoleCount]
    charts: list[BarChart]
    recurring: list[RecurringRole]


def _category_bars(data: _Data, theme: str, role: str) -> list[Bar]:
    summary = data.table("category_summary")
    rows = summary[(summary["theme"] == theme) & (summary["role"] == role)]
    rows = rows.sort_values(["n_departements", "n_items", "category"], ascending=[False, False, True]).head(TOP_CATEGORIES)
    return [
        Bar(label(category_labels(), r["category"]), float(r["n_departements"]),
            f"{plural(int(r['n_departements']), 'dép.', 'dép.')} ({fr_percent(float(r['share_departements']))})",
            plural(int(r["n_items"]), "énoncé"))
        for r in rows.to_dict("records")
    ]


def theme_view(data: _Data, index: int, theme: str) -> ThemeView:
    """Per theme: what it gathered, its main categories, its recurring statements."""
    summary = data.table("theme_summary")
    by_role = {r["role"]: r for r in summary[summary["theme"] == theme].to_dict("records")}
    counts = [RoleCount(label(ROLE_PLURALS, role).lower(), int(by_role[role]["n_items"]) if role in by_role else 0,
                        int(by_role[role]["n_departements"]) if role in by_role else 0)
              for role in MATRIX_ROLES]
    longest = max(len(text) for text in category_labels().values())
    charts = [bar_chart(_category_bars(data, theme, role), title, bar_width=150, label_chars=longest)
              for role, title in (("irritant", "Catégories d'irritants les plus citées"),
                                  ("levier", "Catégories de leviers les plus citées"))]
    return ThemeView(theme, index, THEME_LABELS[theme], counts, charts, recurring_roles(data, theme))


# --------------------------------------------------------------------------
# Départements, académies, régions académiques
# --------------------------------------------------------------------------


def supposed(departement: Departement) -> str:
    """How a guessed département reads: « Hautes-Alpes (05) — supposé »."""
    return f"{departement.nom} ({departement.code}) — supposé"


def guessed_departement(document: Row) -> Guess | None:
    """The département a rejected file of unknown département points to, so
    that analysts know whom to call: the guess the pipeline wrote at the end
    of its message (cover page, else file name), else the file name alone (a
    copy's message names its original instead)."""
    if document["status"] != "rejected" or not _missing(document.get("departement_code")):
        return None
    written = read_guess(str(document.get("message") or ""))
    if written is not None:
        return written
    found = guess_from_file_name(document["source_file"])
    return Guess(found, FILE_NAME_BASIS) if found else None


@dataclass(frozen=True)
class Statement:
    text: str
    href: str
    where: str  # « projection, p. 3 »: one role can come from two sections
    category: str  # its primary category's label, or empty


@dataclass(frozen=True)
class StatementGroup:
    heading: str
    statements: list[Statement]


@dataclass(frozen=True)
class ThemeStatements:
    theme: str
    roles: list[StatementGroup]


@dataclass(frozen=True)
class Count:
    label: str  # « irritants »
    n: int


@dataclass(frozen=True)
class FileLine:
    """A file of a département, and whether its figures count."""

    link: Link
    status: str
    session: str  # « 14/10/2020, Le Mans »
    note: str


@dataclass(frozen=True)
class DepartementView:
    anchor: str
    label: str  # « 72 Sarthe », « Hautes-Alpes (05) — supposé »
    academie: str
    region: str
    counted: bool  # one of its restitutions enters the figures
    files: list[FileLine]
    counts: list[Count]
    n_participants: int
    themes: list[ThemeStatements]
    n_statements: int


@dataclass(frozen=True)
class AcademieView:
    name: str
    departements: list[DepartementView]
    n_counted: int
    counts: list[int]  # statements by role, in MATRIX_ROLES order, over counted départements


@dataclass(frozen=True)
class RegionView:
    name: str
    academies: list[AcademieView]
    n_counted: int
    counts: list[int]


UNKNOWN_REGION = "Département non reconnu"


def _status(document: Row) -> str:
    reason = document.get("reason")
    return status_label(document["status"], None if _missing(reason) else reason)


def _file_line(data: _Data, document: Row, guess: Guess | None) -> FileLine:
    place = document.get("session_place")
    session = ", ".join(part for part in (fr_date(document.get("session_date")), "" if _missing(place) else place) if part)
    if document.get("document_id") in data.counted:
        note = "pris en compte"
    elif guess is not None:
        note = f"département supposé {guess.basis}"
    elif document["status"] == "rejected":
        note = "non lu"
    elif _is(document.get("is_current"), False):
        note = "remplacé par une session plus récente"
    else:
        note = "même session qu'un autre fichier, non compté"
    if _is(document.get("ocr"), True):
        note += " · lu par OCR"
    return FileLine(data.file_link(document["source_file"]), _status(document), session, note)


_THEME_HEADINGS = THEME_LABELS | {UNKNOWN: THEME_SHORT_LABELS[UNKNOWN]}


def _statements(data: _Data, items: list[Row]) -> list[ThemeStatements]:
    """A restitution's statements by theme (the contract's order, unrecognised last), then by role."""
    categories = category_labels()
    by_theme: dict[str, dict[str, list[Statement]]] = {}
    for item in items:
        if item["role"] in DEPARTEMENT_ROLES:
            where = ", ".join(part for part in (label(SECTION_LABELS, item["section"]), _page_note(item.get("page"))) if part)
            by_theme.setdefault(item["theme"], {}).setdefault(item["role"], []).append(Statement(
                item["text"], data.item_href(item), where,
                "" if _missing(item.get("category")) else label(categories, item["category"])))
    return [
        ThemeStatements(label(_THEME_HEADINGS, theme),
                        [StatementGroup(label(ROLE_PLURALS, role), by_theme[theme][role])
                         for role in DEPARTEMENT_ROLES if role in by_theme[theme]])
        for theme in [*THEMES, UNKNOWN] if theme in by_theme
    ]


def departement_view(data: _Data, key: str, documents: list[Row], items: list[Row],
                     n_participants: int) -> DepartementView:
    """One département: its files, its figures and every statement of the restitution that counts."""
    reference = departements().get(key)
    guesses = {d["source_file"]: guessed_departement(d) for d in documents}
    known = any(guess is None for guess in guesses.values())
    if reference is None:
        name, academie, region = data.dep_label(key), "", UNKNOWN_REGION
    else:
        name = f"{reference.code} {reference.nom}" if known else supposed(reference)
        academie, region = reference.academie, reference.region_academique
    # Counted as department_theme_matrix counts them: statements of a recognised theme.
    by_role = Counter(item["role"] for item in items if item["theme"] in THEMES)
    return DepartementView(
        "dep-" + re.sub(r"[^0-9a-z]+", "-", key.lower()), name, academie, region,
        any(d.get("document_id") in data.counted for d in documents),
        [_file_line(data, d, guesses[d["source_file"]]) for d in documents],
        [Count(label(ROLE_PLURALS, role).lower(), by_role[role]) for role in MATRIX_ROLES],
        n_participants, _statements(data, items), sum(1 for item in items if item["role"] in DEPARTEMENT_ROLES),
    )


def _departement_of(document: Row) -> str | None:
    """The département a file is listed under: its own, else the one guessed
    for a rejected file, else the file itself when it was read; a rejected
    file of unknown origin is listed only under data quality."""
    if not _missing(document.get("departement_code")):
        return str(document["departement_code"])
    guess = guessed_departement(document)
    if guess is not None:
        return guess.departement.code
    return None if document["status"] == "rejected" else "doc:" + document["document_id"]


def regions_view(data: _Data) -> list[RegionView]:
    """Every département that sent a file, grouped by académie and région
    académique (a file of unknown département last)."""
    documents: dict[str, list[Row]] = {}
    for document in sorted(data.table("documents").to_dict("records"), key=lambda d: d["source_file"]):
        key = _departement_of(document)
        if key is not None:
            documents.setdefault(key, []).append(document)
    items: dict[str, list[Row]] = {}
    for item in data.items.values():
        if item["document_id"] in data.counted:
            items.setdefault(_dep_key(item), []).append(item)
    participants = data.counted_rows("participants")
    people: Counter[str] = Counter()
    for row in participants.to_dict("records"):
        if not _missing(row.get("count")):
            people[_dep_key(row)] += int(float(row["count"]))
    views = [departement_view(data, key, found, items.get(key, []), people[key]) for key, found in documents.items()]
    regions: dict[str, dict[str, list[DepartementView]]] = {}
    for view in sorted(views, key=lambda v: (v.anchor.startswith("dep-doc-"), v.anchor)):
        regions.setdefault(view.region, {}).setdefault(view.academie, []).append(view)
    result = []
    # Folded names sort as French readers expect: « Île-de-France » among the I.
    for region in sorted(regions, key=lambda r: (r == UNKNOWN_REGION, fold(r))):
        academies = [_academie(name, regions[region][name]) for name in sorted(regions[region], key=fold)]
        result.append(RegionView(region, academies, sum(a.n_counted for a in academies),
                                 [sum(column) for column in zip(*(a.counts for a in academies))]))
    return result


def _academie(name: str, views: list[DepartementView]) -> AcademieView:
    counted = [view for view in views if view.counted]
    return AcademieView(name, views, len(counted),
                        [sum(view.counts[j].n for view in counted) for j in range(len(MATRIX_ROLES))])


# --------------------------------------------------------------------------
# Cross views: heat map, participants, actors, time frames
# --------------------------------------------------------------------------


def heatmap_view(data: _Data) -> HeatMap:
    rows: dict[str, list[tuple[int, int]]] = {}
    for r in data.table("department_theme_matrix").to_dict("records"):
        key = r["departement_code"] if not _missing(r["departement_code"]) else "?"
        row_label = f"{key} {r['departement']}" if not _missing(r["departement"]) else key
        cells = rows.setdefault(row_label, [(0, 0)] * len(THEMES))
        cells[list(THEMES).index(r["theme"])] = (int(r["n_irritant"]), int(r["n_levier"]))
    return heat_map(sorted(rows.items()), "Irritants et leviers par département et par thème")


@dataclass(frozen=True)
class ParticipantRow:
    label: str
    n_checked: int
    total: int
    n_missing: int


@dataclass(frozen=True)
class ParticipantsView:
    chart: BarChart
    rows: list[ParticipantRow]


def participants_view(data: _Data) -> ParticipantsView:
    by_category = {r["category"]: r for r in data.table("participants_summary").to_dict("records")}
    rows = [ParticipantRow(PARTICIPANT_LABELS[c], int(by_category[c]["n_departements_checked"]),
                           int(by_category[c]["total_count"]), int(by_category[c]["n_departements_count_missing"]))
            for c in PARTICIPANT_CATEGORIES if c in by_category]
    bars = [Bar(row.label, float(row.total), f"{fr_number(row.total)} ({plural(row.n_checked, 'dép.', 'dép.')})")
            for row in rows]
    return ParticipantsView(bar_chart(bars, "Participants déclarés par catégorie"), rows)


@dataclass(frozen=True)
class ActorRow:
    label: str
    themes: str


@dataclass(frozen=True)
class ActorsView:
    chart: BarChart
    rows: list[ActorRow]


def actors_view(data: _Data) -> ActorsView:
    bars, rows = [], []
    for r in data.table("actors_summary").to_dict("records"):
        actor = label(actor_labels(), r["actor"])
        bars.append(Bar(actor, float(r["n_actions"]),
                        f"{fr_number(int(r['n_actions']))} ({plural(int(r['n_departements']), 'dép.', 'dép.')})"))
        themes = r["themes"] if isinstance(r["themes"], list) else []
        rows.append(ActorRow(actor, ", ".join(label(THEME_SHORT_LABELS, t) for t in themes)))
    return ActorsView(bar_chart(bars, "Acteurs mobilisés par les plans d'action"), rows)


@dataclass(frozen=True)
class TimeframeRow:
    label: str
    counts: list[int]  # court, moyen, long, non précisé


@dataclass(frozen=True)
class TimeframesView:
    headings: list[str]
    chart: StackedBars
    rows: list[TimeframeRow]


def timeframes_view(data: _Data) -> TimeframesView:
    actions = data.counted_rows("actions")
    keys = [*TEMPORALITES, ""]
    rows: list[tuple[str, Counter[str]]] = []
    if not actions.empty:
        codes = actions["temporalite"].map(lambda v: "" if _missing(v) else v)
        rows.append(("Tous thèmes", Counter(codes)))
        rows += [(THEME_SHORT_LABELS[theme], Counter(codes[actions["theme"] == theme])) for theme in THEMES
                 if (actions["theme"] == theme).any()]
    return TimeframesView([TEMPORALITE_LABELS[key] for key in keys],
                          stacked_bars(rows, "Temporalité souhaitée des actions, par thème"),
                          [TimeframeRow(row_label, [counts.get(key, 0) for key in keys]) for row_label, counts in rows])


# --------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    file: Link
    departement: str  # « 72 Sarthe », « Hautes-Alpes (05) — supposé », or « — »
    basis: str  # why a département is supposed (« d'après le nom du fichier »), else empty
    status: str
    message: str


@dataclass(frozen=True)
class SupersededRow:
    file: Link
    departement: str
    session: str
    current: Link | None
    current_session: str


@dataclass(frozen=True)
class QualityView:
    figures: list[Figure]
    problems: list[DocumentRow]
    superseded: list[SupersededRow]
    unknown_themes: list[str]
    documents: list[DocumentRow]


def document_row(data: _Data, document: Row) -> DocumentRow:
    guess = guessed_departement(document)
    if guess is not None:
        where, basis = supposed(guess.departement), f"Département supposé {guess.basis}"
    else:
        code = document.get("departement_code")
        where, basis = ("—" if _missing(code) else data.dep_label(str(code))), ""
    return DocumentRow(data.file_link(document["source_file"]), where, basis, _status(document),
                       "" if _missing(document.get("message")) else document["message"])


def quality_view(data: _Data) -> QualityView:
    """What was read, what was not, and why: the limits of every figure above."""
    documents = sorted(data.table("documents").to_dict("records"), key=lambda d: d["source_file"])
    statuses = _status_counts(data)
    superseded = [d for d in documents if _is(d.get("is_current"), False)]
    quarantine = data.table("quarantine")
    unknown = quarantine[quarantine["reason"] == UNKNOWN_THEME_REASON]
    counted_by_dep = {d["departement_code"]: d for d in data.documents.values() if d["document_id"] in data.counted}
    figures = [
        _count(len(documents), "fichier reçu", "fichiers reçus"),
        _count(statuses["ok"], "intégré", "intégrés"),
        _count(statuses["partial"], "partiel", "partiels", "intégrés en partie"),
        _count(statuses["rejected"], "rejeté", "rejetés", "non lus"),
        _count(len(superseded), "remplacé", "remplacés", "par une session plus récente"),
        _count(len(unknown), "énoncé hors thème", "énoncés hors thème", "thème non reconnu, en quarantaine"),
    ]
    replaced = []
    for d in superseded:
        current = counted_by_dep.get(d["departement_code"])
        replaced.append(SupersededRow(
            data.file_link(d["source_file"]), data.dep_label(d["departement_code"]), fr_date(d.get("session_date")),
            data.file_link(current["source_file"]) if current else None,
            fr_date(current.get("session_date")) if current else ""))
    return QualityView(
        figures, [document_row(data, d) for d in documents if d["status"] != "ok"], replaced,
        [f"{r['source_file']} : {r['message']}" for r in unknown.to_dict("records")],
        [document_row(data, d) for d in documents],
    )


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    toc: list[Link]
    summary: SummaryView
    themes: list[ThemeView]
    heat_map: HeatMap
    regions: list[RegionView]
    role_headings: list[str]  # the columns of RegionView.counts and AcademieView.counts
    participants: ParticipantsView
    actors: ActorsView
    timeframes: TimeframesView
    quality: QualityView
    data_date: str  # « 01/12/2020 », the day the newest file was first seen


def report_view(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame | None, raw_link_prefix: str) -> ReportView:
    """Everything the page shows, computed from the tables (no HTML)."""
    if recurring is None:
        recurring = pd.DataFrame(columns=COLUMNS["recurring_statements"])
    data = _data(tables, recurring, raw_link_prefix)
    toc = [Link("L'essentiel", "#resume"), *(Link(THEME_SHORT_LABELS[t], f"#theme-{t}") for t in THEMES),
           Link("Départements × thèmes", "#carte"), Link("Académies et départements", "#departements"),
           Link("Participants", "#participants"), Link("Acteurs", "#acteurs"), Link("Échéances", "#temporalites"),
           Link("Qualité des données", "#qualite"), Link("Méthode", "#methode")]
    dates = [d for d in data.table("documents")["ingested_at"] if not _missing(d)]
    return ReportView(
        toc, summary_view(data), [theme_view(data, i, theme) for i, theme in enumerate(THEMES, start=1)],
        heatmap_view(data), regions_view(data), [label(ROLE_PLURALS, role) for role in MATRIX_ROLES],
        participants_view(data), actors_view(data), timeframes_view(data),
        quality_view(data), fr_date(max(dates)[:10]) if dates else "",
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("pipeline.publish", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["nombre"] = fr_number
    environment.globals.update(plural=plural)
    return environment


def _asset(name: str) -> str:
    return files("pipeline.publish").joinpath("templates", name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    """A CSP source admitting exactly this inline text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(css: str, script: str) -> str:
    """Nothing may be fetched, and only the page's own stylesheet and script
    run: they are admitted by their hash, never by 'unsafe-inline'."""
    return (f"default-src 'none'; style-src {_sha256(css)}; script-src {_sha256(script)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def render_report(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame | None, raw_link_prefix: str) -> str:
    """The whole page: summary, one section per theme, the cross views, the
    académies and départements, data quality, method."""
    css, script = _asset("report.css"), _asset("report.js")
    return _environment().get_template("report.html.j2").render(
        view=report_view(tables, recurring, raw_link_prefix), title=TITLE, subtitle=SUBTITLE,
        css=Markup(css), script=Markup(script), csp=Markup(content_security_policy(css, script)),
    )
