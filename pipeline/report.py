"""The national synthesis as one self-contained French HTML page.

Ministry analysts open it from a shared folder or an e-mail, often
offline, and print it: so the page loads nothing from anywhere (no CDN,
no web font, no remote image, no script; a Content-Security-Policy says
so to the browser too), its charts are inline SVG drawn here, and every
text that comes from a document is HTML-escaped, since a restitution is
untrusted input.

The figures are those of the contract's aggregates (one current file per
département, see `pipeline.aggregate`); the recurring statements come from
`pipeline.recurring`. Each quoted statement links to its source file (and
page, for a PDF) under `raw_link_prefix`.
"""

from __future__ import annotations

import csv
import html
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from urllib.parse import quote

import pandas as pd

from pipeline.aggregate import counted_ids
from pipeline.labels import category_labels
from pipeline.contract import PARTICIPANT_CATEGORIES, TEMPORALITES
from pipeline.normalize.themes import THEMES
from pipeline.schemas import COLUMNS

TITLE = "Synthèse nationale des restitutions"
SUBTITLE = "États généraux du numérique pour l'éducation — sessions départementales de l'automne 2020"

THEME_SHORT = {
    "acces": "Égal accès",
    "travailler_ensemble": "Travailler ensemble",
    "gouvernance": "Gouvernance",
    "responsable_souverain": "Numérique responsable",
    "enseigner_apprendre": "Enseigner et apprendre",
}
ROLE_LABELS = {
    "irritant": ("irritant", "Irritants"), "point_fort": ("point fort", "Points forts"),
    "besoin": ("besoin", "Besoins"), "levier": ("levier", "Leviers"), "action": ("action", "Actions"),
    "difficulte": ("difficulté", "Difficultés"),
}
# How many recurring groups each theme section shows, by role; the
# workbook's recurring_statements sheet holds all of them.
RECURRING_SHOWN = {"irritant": 5, "besoin": 3, "levier": 5, "point_fort": 3}
TOP_CATEGORIES = 6
PARTICIPANT_LABELS = {
    "premier_degre": "Équipes du premier degré",
    "second_degre": "Équipes du second degré",
    "representants_academiques": "Représentants académiques",
    "usagers": "Usagers (familles et élèves)",
    "associations": "Associations et collectifs",
    "elus_collectivites": "Élus et collectivités",
    "chercheurs": "Chercheurs",
    "operateurs": "Opérateurs",
    "edtech": "Filière EdTech",
}
TEMPORALITE_LABELS = {"court": "Court terme", "moyen": "Moyen terme", "long": "Long terme", None: "Non précisé"}
STATUS_LABELS = {"ok": "Intégré", "partial": "Partiel", "rejected": "Rejeté"}
REASON_LABELS = {
    "encrypted": "PDF protégé par mot de passe",
    "corrupt": "Fichier endommagé ou illisible",
    "empty": "Fichier vide",
    "no_text_layer": "PDF sans texte (numérisé)",
    "not_a_restitution": "Pas une trame de restitution",
    "too_large": "Fichier trop volumineux",
    "unsupported_format": "Format non pris en charge",
    "missing_sections": "Sections manquantes",
    "unknown_theme": "Thème non reconnu",
}

# Colour-blind-safe colours (Okabe–Ito) and a single-hue blue scale: they
# stay apart in grey scale, and the text drawn on them keeps its contrast.
BAR_COLOUR = "#1f5fa8"
TIME_COLOURS = {"court": "#0072B2", "moyen": "#E69F00", "long": "#009E73", None: "#8c8c8c"}
TIME_TEXT = {"court": "#ffffff", "moyen": "#1a1a1a", "long": "#ffffff", None: "#ffffff"}
HEAT_LOW, HEAT_HIGH = (240, 244, 252), (8, 48, 107)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def esc(value: object) -> str:
    """HTML-escape anything shown on the page, quotes included (values also land in attributes)."""
    return html.escape("" if _missing(value) else str(value), quote=True)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fr_number(value: float | int) -> str:
    """French digit grouping with a narrow no-break space: 12 345."""
    return f"{int(value):,}".replace(",", "\u202f")


def fr_percent(share: float) -> str:
    return f"{round(share * 100):d}\u202f%"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    return f"{fr_number(n)} {singular if n <= 1 else plural_form or singular + 's'}"


def source_href(prefix: str, source_file: str, page: object = None) -> str:
    """Link to a source file under the raw folder, at its page when known (PDF viewers read #page=N)."""
    href = prefix + quote(str(source_file))
    if not _missing(page) and str(page).strip():
        href += f"#page={int(float(page))}"
    return href


def fr_date(iso: object) -> str:
    """« 2020-10-14 » as French readers write it: 14/10/2020 (anything else unchanged)."""
    text = "" if _missing(iso) else str(iso)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@lru_cache(maxsize=1)
def actor_labels() -> dict[str, str]:
    """French labels of the actor codes, from the actors' lexicon (its `note` column)."""
    text = files("pipeline").joinpath("data", "acteurs.csv").read_text(encoding="utf-8")
    labels = {row["code"]: row["note"] for row in csv.DictReader(text.splitlines())}
    labels["autre"] = "Autres acteurs"
    return labels


# --------------------------------------------------------------------------
# What the sections read
# --------------------------------------------------------------------------


@dataclass
class _Context:
    """The tables, and the look-ups every section needs, built once."""

    tables: dict[str, pd.DataFrame]
    recurring: pd.DataFrame
    prefix: str
    counted: set[str]
    documents: dict[str, dict]
    items: dict[str, dict]
    dep_names: dict[str, str]

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    def counted_rows(self, name: str) -> pd.DataFrame:
        frame = self.table(name)
        if frame.empty or "document_id" not in frame:
            return frame
        return frame[frame["document_id"].isin(self.counted)]

    def dep_label(self, key: str) -> str:
        """« 72 Sarthe », or the file name for a document of unknown département."""
        if key.startswith("doc:"):
            document = self.documents.get(key[4:], {})
            return document.get("source_file") or key
        name = self.dep_names.get(key)
        return f"{key} {name}" if name else key

    def item_href(self, item: dict) -> str:
        document = self.documents.get(item["document_id"], {})
        return source_href(self.prefix, document.get("source_file", ""), item.get("page"))


def _context(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame, prefix: str) -> _Context:
    documents = tables.get("documents", pd.DataFrame())
    items = tables.get("items", pd.DataFrame())
    doc_rows = {row["document_id"]: row for row in documents.to_dict("records")}
    item_rows = {row["item_id"]: row for row in items.to_dict("records")}
    dep_names = {
        row["departement_code"]: row["departement"] for row in documents.to_dict("records")
        if not _missing(row.get("departement_code")) and not _missing(row.get("departement"))
    }
    counted = counted_ids(documents) if not documents.empty else set()
    return _Context(tables, recurring, prefix, counted, doc_rows, item_rows, dep_names)


# --------------------------------------------------------------------------
# Charts (inline SVG)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str  # written after the bar
    detail: str = ""  # added to the tooltip only


LABEL_LIMIT = 44
CHAR_WIDTH = 7.6  # average width of a character of the 13 px chart font, for layout


def bar_chart(bars: list[Bar], title: str, bar_width: int = 250, label_chars: int = 0) -> str:
    """A horizontal bar chart; the value of each bar is also written after it.

    Label and note columns are as wide as their longest text (at least
    `label_chars` characters, so that charts shown side by side share one
    scale), and nothing is clipped whatever the taxonomy's labels become.
    """
    if not bars:
        return '<p class="empty">Aucune donnée.</p>'
    row = 26
    longest = max([label_chars, *(len(_truncate(bar.label, LABEL_LIMIT)) for bar in bars)])
    label_width = round(min(longest, LABEL_LIMIT) * CHAR_WIDTH) + 14
    note_width = round(max(len(bar.note) for bar in bars) * CHAR_WIDTH) + 16
    top = max(bar.value for bar in bars) or 1
    width, height = label_width + bar_width + note_width, row * len(bars) + 6
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for i, bar in enumerate(bars):
        y = i * row + 3
        length = max(bar.value / top * bar_width, 1.5 if bar.value else 0)
        parts.append(
            f'<g><title>{esc(bar.label)} : {esc(bar.note)}{esc(" · " + bar.detail if bar.detail else "")}</title>'
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" class="lbl">{esc(_truncate(bar.label, LABEL_LIMIT))}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" rx="2" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 17}" class="val">{esc(bar.note)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _heat_colour(share: float) -> str:
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(HEAT_LOW, HEAT_HIGH))
    return f"#{r:02x}{g:02x}{b:02x}"


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _ink_on(fill: str) -> str:
    """Dark or white text, whichever contrasts more with the fill (WCAG ratio)."""
    lum = _luminance(fill)
    return "#1a1a1a" if (lum + 0.05) / (_luminance("#1a1a1a") + 0.05) >= 1.05 / (lum + 0.05) else "#ffffff"


def _two_lines(label: str, width: int = 13) -> list[str]:
    """Split a column header on the space nearest its middle when it is too long for one line."""
    if len(label) <= width or " " not in label:
        return [label]
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return [label[:cut], label[cut + 1:]]


def heat_map(rows: list[tuple[str, list[tuple[int, int]]]], title: str) -> str:
    """Départements × themes; each cell writes « irritants + leviers » and is coloured by their sum."""
    if not rows:
        return '<p class="empty">Aucune donnée.</p>'
    label_width, cell_w, cell_h, head = 210, 120, 22, 40
    top = max((i + lv for _, cells in rows for i, lv in cells), default=0) or 1
    width, height = label_width + cell_w * len(THEMES), head + cell_h * len(rows) + 2
    parts = [f'<svg class="chart heat" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for j, theme in enumerate(THEMES):
        x = label_width + j * cell_w + cell_w / 2
        lines = _two_lines(THEME_SHORT[theme])
        spans = "".join(f'<tspan x="{x}" dy="{0 if k == 0 else 14}">{esc(line)}</tspan>' for k, line in enumerate(lines))
        parts.append(f'<text x="{x}" y="{head - 6 - 14 * (len(lines) - 1)}" text-anchor="middle" class="col">{spans}</text>')
    for i, (label, cells) in enumerate(rows):
        y = head + i * cell_h
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="lbl">{esc(_truncate(label, 30))}</text>')
        for j, (irritants, leviers) in enumerate(cells):
            share = (irritants + leviers) / top
            fill = _heat_colour(share)
            ink = _ink_on(fill)
            x = label_width + j * cell_w
            tip = f"{label} — {THEMES[list(THEMES)[j]]} : {plural(irritants, 'irritant')}, {plural(leviers, 'levier')}"
            parts.append(
                f'<g><title>{esc(tip)}</title><rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"/><text x="{x + cell_w / 2}" y="{y + 15}" text-anchor="middle" class="cell" '
                f'fill="{ink}">{irritants} + {leviers}</text></g>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="swatch" style="background:{_heat_colour(step / 4)}"></span>{fr_number(round(top * step / 4))}'
        for step in range(5)
    )
    return "".join(parts) + f'<p class="legend" aria-hidden="true">Somme irritants + leviers : {legend}</p>'


def stacked_bars(rows: list[tuple[str, Counter]], title: str) -> str:
    """One horizontal bar per row, split by time frame (court, moyen, long, non précisé)."""
    keys: list[str | None] = [*TEMPORALITES, None]
    label_width, bar_width, row = 200, 440, 30
    width, height = label_width + bar_width + 10, row * len(rows) + 4
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for i, (label, counts) in enumerate(rows):
        y, x = i * row + 2, float(label_width)
        total = sum(counts.values())
        parts.append(f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" class="lbl">{esc(label)}</text>')
        for key in keys:
            n = counts.get(key, 0)
            if not n:
                continue
            w = n / total * bar_width
            parts.append(
                f'<g><title>{esc(label)} — {esc(TEMPORALITE_LABELS[key])} : {plural(n, "action")}</title>'
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{TIME_COLOURS[key]}"/>'
                + (f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" class="cell" fill="{TIME_TEXT[key]}">{n}</text>'
                   if w >= 22 else "")
                + "</g>"
            )
            x += w
    parts.append("</svg>")
    legend = "".join(
        f'<span class="swatch" style="background:{TIME_COLOURS[key]}"></span>{esc(TEMPORALITE_LABELS[key])}' for key in keys
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


# --------------------------------------------------------------------------
# Recurring statements
# --------------------------------------------------------------------------


def _members(ctx: _Context, group: dict) -> list[dict]:
    return [ctx.items[i] for i in group["item_ids"] if i in ctx.items]


def _dep_key(item: dict) -> str:
    code = item.get("departement_code")
    return "doc:" + item["document_id"] if _missing(code) or not code else code


def _quote_link(ctx: _Context, item: dict, text: str) -> str:
    return f'<a class="quote" href="{esc(ctx.item_href(item))}">« {esc(text)} »</a>'


def _where(ctx: _Context, item: dict) -> str:
    page = item.get("page")
    return ctx.dep_label(_dep_key(item)) + ("" if _missing(page) else f", p.\u00a0{int(float(page))}")


SECTION_LABELS = {"retex": "RETEX", "diagnostic": "diagnostic", "projection": "projection",
                  "plan_action": "plan d'action", "fiche": "fiche mesure"}


def _source_links(ctx: _Context, members: list[dict]) -> str:
    """One link per occurrence; the section tells apart two occurrences of one
    département (a statement often recurs from the diagnostic to the projection)."""
    labels = [_where(ctx, m) for m in members]
    repeated = {label for label in labels if labels.count(label) > 1}
    links = []
    for member, label in zip(members, labels):
        if label in repeated:
            label += f" ({SECTION_LABELS.get(member.get('section'), member.get('section') or '')})"
        links.append(f'<a href="{esc(ctx.item_href(member))}">{esc(label)}</a>')
    return ", ".join(links)


def recurring_block(ctx: _Context, group: dict, show_theme: bool = False) -> str:
    """One recurring statement: its representative quoted and linked, the
    départements that raised it, and every wording (folded away)."""
    members = _members(ctx, group)
    if not members:
        return ""
    shown = min((m for m in members if m["text"] == group["representative"]),
                key=lambda m: (_dep_key(m), m["item_id"]), default=members[0])
    deps = ", ".join(esc(ctx.dep_label(key)) for key in group["departements"])
    theme = f' <span class="tag">{esc(THEME_SHORT.get(group["theme"], group["theme"]))}</span>' if show_theme else ""
    by_text: dict[str, list[dict]] = {}
    for member in sorted(members, key=lambda m: (_dep_key(m), m["item_id"])):
        by_text.setdefault(member["text"], []).append(member)
    wordings = "".join(
        f'<li>« {esc(text)} » — {_source_links(ctx, found)}</li>'
        for text, found in sorted(by_text.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    n_wordings = len(by_text)
    return (
        f'<li class="rec"><p class="statement">{_quote_link(ctx, shown, group["representative"])}{theme}'
        f' <span class="src">({esc(_where(ctx, shown))})</span></p>'
        f'<p class="deps"><strong>{plural(int(group["n_departements"]), "département")}</strong> : {deps}</p>'
        f'<details><summary>{plural(len(members), "occurrence")}, {plural(n_wordings, "formulation")} — détail et sources'
        f'</summary><ul class="wordings">{wordings}</ul></details></li>'
    )


def _recurring_of(ctx: _Context, theme: str | None = None, role: str | None = None) -> list[dict]:
    frame = ctx.recurring
    if frame.empty:
        return []
    if theme is not None:
        frame = frame[frame["theme"] == theme]
    if role is not None:
        frame = frame[frame["role"] == role]
    return frame.to_dict("records")


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


def _figure(value: str, label: str, detail: str = "") -> str:
    detail_html = f'<span class="detail">{detail}</span>' if detail else ""
    return f'<div class="figure"><span class="value">{value}</span><span class="label">{label}</span>{detail_html}</div>'


def _count(n: int, singular: str, plural_form: str, detail: str = "") -> str:
    """A key figure whose label agrees with its number (« 1 partiel », « 2 partiels »)."""
    return _figure(fr_number(n), singular if n <= 1 else plural_form, detail)


def _status_counts(ctx: _Context) -> Counter:
    documents = ctx.table("documents")
    return Counter(documents["status"]) if not documents.empty else Counter()


def summary_section(ctx: _Context) -> str:
    """Key figures and the three irritants most départements share."""
    statuses = _status_counts(ctx)
    n_files = sum(statuses.values())
    items = ctx.counted_rows("items")
    actions = ctx.counted_rows("actions")
    participants = ctx.table("participants_summary")
    n_people = int(participants["total_count"].sum()) if not participants.empty else 0
    figures = "".join([
        _count(len(ctx.counted), "département pris en compte", "départements pris en compte",
               "une restitution en vigueur par département"),
        _count(n_files, "fichier reçu", "fichiers reçus",
               f"{plural(statuses['ok'], 'intégré')}, {plural(statuses['partial'], 'partiel')}, "
               f"{plural(statuses['rejected'], 'rejeté')}"),
        _count(len(items), "énoncé analysé", "énoncés analysés", "irritants, points forts, besoins, leviers, actions…"),
        _count(len(actions), "action de plan d'action", "actions de plans d'action"),
        _count(n_people, "participant déclaré", "participants déclarés", "nombres indiqués dans les restitutions"),
        _count(len(ctx.recurring), "énoncé récurrent", "énoncés récurrents",
               "idées exprimées par au moins deux départements"),
    ])
    top = _recurring_of(ctx, role="irritant")[:3]
    top_html = (
        '<ol class="recurring top">' + "".join(recurring_block(ctx, g, show_theme=True) for g in top) + "</ol>"
        if top else '<p class="empty">Aucun irritant n\'est partagé par deux départements ou plus.</p>'
    )
    return (
        '<section id="resume" aria-labelledby="h-resume"><h2 id="h-resume">L\'essentiel</h2>'
        f'<div class="figures">{figures}</div>'
        '<h3>Les trois irritants les plus récurrents</h3>'
        f'{top_html}</section>'
    )


def _category_bars(ctx: _Context, theme: str, role: str) -> list[Bar]:
    summary = ctx.table("category_summary")
    if summary.empty:
        return []
    rows = summary[(summary["theme"] == theme) & (summary["role"] == role)]
    rows = rows.sort_values(["n_departements", "n_items", "category"], ascending=[False, False, True]).head(TOP_CATEGORIES)
    labels = category_labels()
    return [
        Bar(labels.get(r["category"], r["category"]), float(r["n_departements"]),
            f"{plural(int(r['n_departements']), 'dép.', 'dép.')} ({fr_percent(float(r['share_departements']))})",
            f"{plural(int(r['n_items']), 'énoncé')}")
        for r in rows.to_dict("records")
    ]


def _longest_category() -> int:
    return max(len(label) for label in category_labels().values())


def _theme_figures(ctx: _Context, theme: str) -> str:
    summary = ctx.table("theme_summary")
    rows = summary[summary["theme"] == theme] if not summary.empty else summary
    by_role = {r["role"]: r for r in rows.to_dict("records")} if not rows.empty else {}
    parts = []
    for role in ("irritant", "point_fort", "besoin", "levier", "action"):
        row = by_role.get(role)
        n, deps = (int(row["n_items"]), int(row["n_departements"])) if row else (0, 0)
        parts.append(f'<li><strong>{fr_number(n)}</strong> {esc(ROLE_LABELS[role][1].lower())} '
                     f'<span class="muted">({plural(deps, "département")})</span></li>')
    return f'<ul class="theme-figures">{"".join(parts)}</ul>'


def theme_section(ctx: _Context, index: int, theme: str) -> str:
    """Per theme: what it gathered, its main categories, its recurring statements."""
    charts = "".join(
        f'<figure><figcaption>{title}</figcaption>{bar_chart(_category_bars(ctx, theme, role), title, bar_width=150, label_chars=_longest_category())}</figure>'
        for role, title in (("irritant", "Catégories d'irritants les plus citées"),
                            ("levier", "Catégories de leviers les plus citées"))
    )
    blocks = []
    for role, limit in RECURRING_SHOWN.items():
        groups = _recurring_of(ctx, theme, role)
        if not groups:
            continue
        more = len(groups) - limit
        more_note = f'<p class="muted">… et {plural(more, "autre")} dans le classeur (onglet recurring_statements).</p>' if more > 0 else ""
        blocks.append(
            f'<h4>{esc(ROLE_LABELS[role][1])} récurrents</h4><ol class="recurring">'
            + "".join(recurring_block(ctx, g) for g in groups[:limit]) + f"</ol>{more_note}"
        )
    recurring_html = "".join(blocks) or '<p class="empty">Aucun énoncé partagé par deux départements ou plus.</p>'
    return (
        f'<section id="theme-{theme}" class="theme" aria-labelledby="h-{theme}">'
        f'<h2 id="h-{theme}"><span class="num">Thème {index}</span> {esc(THEMES[theme])}</h2>'
        f'{_theme_figures(ctx, theme)}'
        '<p class="note">Barres : nombre de départements dont au moins un énoncé du thème relève de la catégorie '
        '(catégorie principale attribuée automatiquement) et, entre parenthèses, leur part parmi les départements '
        'pris en compte.</p>'
        f'<div class="charts">{charts}</div>'
        f'<h3>Énoncés récurrents</h3>{recurring_html}</section>'
    )


def heatmap_section(ctx: _Context) -> str:
    matrix = ctx.table("department_theme_matrix")
    rows: dict[str, list[tuple[int, int]]] = {}
    if not matrix.empty:
        for r in matrix.to_dict("records"):
            key = r["departement_code"] if not _missing(r["departement_code"]) else "?"
            label = f"{key} {r['departement']}" if not _missing(r["departement"]) else key
            cells = rows.setdefault(label, [(0, 0)] * len(THEMES))
            j = list(THEMES).index(r["theme"])
            cells[j] = (int(r["n_irritant"]), int(r["n_levier"]))
    title = "Irritants et leviers par département et par thème"
    return (
        '<section id="carte" aria-labelledby="h-carte"><h2 id="h-carte">Départements × thèmes</h2>'
        '<p class="note">Chaque case donne le nombre d\'<strong>irritants</strong> puis de <strong>leviers</strong> '
        'exprimés par le département sur le thème (« 4 + 2 » : 4 irritants, 2 leviers) ; plus la case est foncée, '
        'plus leur somme est élevée. Une case claire signale un thème peu traité dans la restitution.</p>'
        f'<div class="scroll">{heat_map(sorted(rows.items()), title)}</div></section>'
    )


def participants_section(ctx: _Context) -> str:
    summary = ctx.table("participants_summary")
    bars, rows = [], []
    if not summary.empty:
        by_category = {r["category"]: r for r in summary.to_dict("records")}
        for category in PARTICIPANT_CATEGORIES:
            r = by_category.get(category)
            if r is None:
                continue
            checked, missing = int(r["n_departements_checked"]), int(r["n_departements_count_missing"])
            bars.append(Bar(PARTICIPANT_LABELS[category], float(r["total_count"]),
                            f"{fr_number(int(r['total_count']))} ({plural(checked, 'dép.', 'dép.')})"))
            rows.append(f'<tr><th scope="row">{esc(PARTICIPANT_LABELS[category])}</th><td>{fr_number(checked)}</td>'
                        f'<td>{fr_number(int(r["total_count"]))}</td><td>{fr_number(missing)}</td></tr>')
    title = "Participants déclarés par catégorie"
    return (
        '<section id="participants" aria-labelledby="h-participants"><h2 id="h-participants">Participants</h2>'
        '<p class="note">Nombre total de participants indiqué par les restitutions, nombre de départements ayant coché '
        'la catégorie, et nombre de départements qui l\'ont laissée sans nombre (« à compléter » ou vide) : '
        'les totaux sont donc des minima.</p>'
        f'<figure><figcaption>{title}</figcaption>{bar_chart(bars, title)}</figure>'
        + (('<table class="numbers"><thead><tr><th scope="col">Catégorie</th><th scope="col">Départements ayant coché</th>'
            '<th scope="col">Participants déclarés</th><th scope="col">Départements sans nombre</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>') if rows else "")
        + '</section>'
    )


def actors_section(ctx: _Context) -> str:
    summary = ctx.table("actors_summary")
    labels = actor_labels()
    bars, rows = [], []
    if not summary.empty:
        for r in summary.to_dict("records"):
            label = labels.get(r["actor"], r["actor"])
            bars.append(Bar(label, float(r["n_actions"]),
                            f"{fr_number(int(r['n_actions']))} ({plural(int(r['n_departements']), 'dép.', 'dép.')})"))
            themes = r["themes"] if isinstance(r["themes"], list) else []
            rows.append(f"<tr><td>{esc(label)}</td><td>{esc(', '.join(THEME_SHORT.get(t, t) for t in themes))}</td></tr>")
    title = "Acteurs mobilisés par les plans d'action"
    table = (f'<details><summary>Thèmes où chaque acteur est mobilisé</summary><table><thead><tr><th scope="col">Acteur</th>'
             f'<th scope="col">Thèmes</th></tr></thead><tbody>{"".join(rows)}</tbody></table></details>') if rows else ""
    return (
        '<section id="acteurs" aria-labelledby="h-acteurs"><h2 id="h-acteurs">Acteurs des plans d\'action</h2>'
        '<p class="note">Nombre de lignes de plan d\'action qui citent l\'acteur (colonne « Acteurs mobilisés ») et, '
        'entre parenthèses, nombre de départements concernés.</p>'
        f'<figure><figcaption>{title}</figcaption>{bar_chart(bars, title)}</figure>{table}</section>'
    )


def timeframes_section(ctx: _Context) -> str:
    actions = ctx.counted_rows("actions")
    rows: list[tuple[str, Counter]] = []
    if not actions.empty:
        codes = actions["temporalite"].map(lambda v: None if _missing(v) or not v else v)
        rows.append(("Tous thèmes", Counter(codes)))
        for theme in THEMES:
            counts = Counter(codes[actions["theme"] == theme])
            if counts:
                rows.append((THEME_SHORT[theme], counts))
    table_rows = "".join(
        f"<tr><th scope=\"row\">{esc(label)}</th>"
        + "".join(f"<td>{fr_number(counts.get(key, 0))}</td>" for key in [*TEMPORALITES, None]) + "</tr>"
        for label, counts in rows
    )
    title = "Temporalité souhaitée des actions, par thème"
    body = stacked_bars(rows, title) if rows else '<p class="empty">Aucune action.</p>'
    head = "".join(f'<th scope="col">{esc(TEMPORALITE_LABELS[key])}</th>' for key in [*TEMPORALITES, None])
    table = (f'<table class="numbers"><thead><tr><th scope="col">Thème</th>{head}</tr></thead>'
             f'<tbody>{table_rows}</tbody></table>') if rows else ""
    return (
        '<section id="temporalites" aria-labelledby="h-temporalites"><h2 id="h-temporalites">Échéances des actions</h2>'
        '<p class="note">Répartition des lignes de plan d\'action selon la temporalité souhaitée : court terme (un an au '
        'plus), moyen terme (jusqu\'à trois ans), long terme ; « non précisé » quand la restitution ne dit rien.</p>'
        f'<figure><figcaption>{title}</figcaption>{body}</figure>{table}</section>'
    )


def _documents_table(ctx: _Context, documents: list[dict], with_message: bool = True) -> str:
    rows = []
    for d in documents:
        reason = REASON_LABELS.get(d.get("reason") or "", d.get("reason") or "")
        link = f'<a href="{esc(source_href(ctx.prefix, d["source_file"]))}">{esc(d["source_file"])}</a>'
        dep = ctx.dep_label(d["departement_code"]) if not _missing(d.get("departement_code")) else "—"
        cells = [link, esc(dep), esc(STATUS_LABELS.get(d["status"], d["status"])), esc(reason)]
        if with_message:
            cells.append(esc(d.get("message")))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ["Fichier", "Département", "Statut", "Raison"] + (["Message"] if with_message else [])
    return (f'<table><thead><tr>{"".join(f"<th scope=col>{h}</th>" for h in head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _superseded_table(ctx: _Context, superseded: list[dict]) -> str:
    """Each replaced file, its session date, and the file counted instead."""
    counted_by_dep = {d["departement_code"]: d for d in ctx.documents.values() if d["document_id"] in ctx.counted}
    rows = []
    for d in superseded:
        current = counted_by_dep.get(d["departement_code"])
        current_html = (f'<a href="{esc(source_href(ctx.prefix, current["source_file"]))}">{esc(current["source_file"])}</a> '
                        f'({esc(fr_date(current.get("session_date")))})') if current else "—"
        rows.append(
            f'<tr><td><a href="{esc(source_href(ctx.prefix, d["source_file"]))}">{esc(d["source_file"])}</a></td>'
            f'<td>{esc(ctx.dep_label(d["departement_code"]))}</td><td class="nowrap">{esc(fr_date(d.get("session_date")))}</td>'
            f'<td>{current_html}</td></tr>'
        )
    return ('<table><thead><tr><th scope="col">Fichier remplacé</th><th scope="col">Département</th>'
            '<th scope="col">Session</th><th scope="col">Restitution retenue (session)</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def quality_section(ctx: _Context) -> str:
    """What was read, what was not, and why: the limits of every figure above."""
    documents = sorted(ctx.documents.values(), key=lambda d: d["source_file"])
    statuses = _status_counts(ctx)
    problems = [d for d in documents if d["status"] != "ok"]
    superseded = [d for d in documents if d.get("is_current") is False]
    quarantine = ctx.table("quarantine")
    unknown = quarantine[quarantine["reason"] == "unknown_theme"] if not quarantine.empty else quarantine
    figures = "".join([
        _count(len(documents), "fichier reçu", "fichiers reçus"),
        _count(statuses["ok"], "intégré", "intégrés"),
        _count(statuses["partial"], "partiel", "partiels", "intégrés en partie"),
        _count(statuses["rejected"], "rejeté", "rejetés", "non lus"),
        _count(len(superseded), "remplacé", "remplacés", "par une session plus récente"),
        _count(len(unknown), "énoncé hors thème", "énoncés hors thème", "thème non reconnu, en quarantaine"),
    ])
    problems_html = (_documents_table(ctx, problems) if problems
                     else '<p class="empty">Tous les fichiers ont été intégrés.</p>')
    superseded_html = ""
    if superseded:
        superseded_html = ("<h3>Restitutions remplacées</h3><p class=\"note\">Un département qui a envoyé plusieurs "
                           "restitutions n'est compté qu'une fois, avec sa session la plus récente.</p>"
                           + _superseded_table(ctx, superseded))
    unknown_html = ""
    if not unknown.empty:
        lines = "".join(f"<li>{esc(r['source_file'])} : {esc(r['message'])}</li>" for r in unknown.to_dict("records"))
        unknown_html = (f'<details><summary>{plural(len(unknown), "énoncé")} dont le thème n\'a pas été reconnu</summary>'
                        f'<ul class="small">{lines}</ul></details>')
    return (
        '<section id="qualite" aria-labelledby="h-qualite"><h2 id="h-qualite">Qualité des données</h2>'
        f'<div class="figures">{figures}</div>'
        f'<h3>Fichiers rejetés ou partiels</h3>{problems_html}{superseded_html}{unknown_html}'
        f'<details><summary>Liste complète des fichiers reçus</summary>{_documents_table(ctx, documents)}</details>'
        '</section>'
    )


def method_section() -> str:
    return (
        '<section id="methode" aria-labelledby="h-methode"><h2 id="h-methode">Méthode</h2><ul>'
        '<li>Chaque département est compté une fois : seule sa restitution la plus récente (« en vigueur ») entre '
        'dans les chiffres ; un fichier rejeté n\'y entre pas, un fichier partiel y entre pour ce qu\'il contient.</li>'
        '<li>Les catégories sont attribuées automatiquement à chaque énoncé (irritant, point fort, besoin, levier, '
        'action, difficulté) selon la taxonomie du projet ; les graphiques en retiennent la catégorie principale.</li>'
        '<li>Énoncés récurrents : dans un même thème et un même rôle, les énoncés sont comparés après normalisation '
        '(minuscules sans accents, mots vides et marques de manque ou d\'intention retirés, terminaisons réduites : '
        '« formation », « former », « formés »), puis rapprochés par similarité textuelle, avec un bonus quand ils '
        'relèvent de la même catégorie. Un groupe n\'est retenu que s\'il réunit au moins deux départements ; la '
        'formulation citée est celle du groupe la plus proche de toutes les autres, reproduite telle quelle.</li>'
        '<li>Chaque citation renvoie au fichier d\'origine, à la page citée pour un PDF.</li>'
        '</ul></section>'
    )


def _toc() -> str:
    entries = [("resume", "L'essentiel")]
    entries += [(f"theme-{theme}", THEME_SHORT[theme]) for theme in THEMES]
    entries += [("carte", "Départements × thèmes"), ("participants", "Participants"), ("acteurs", "Acteurs"),
                ("temporalites", "Échéances"), ("qualite", "Qualité des données"), ("methode", "Méthode")]
    links = "".join(f'<li><a href="#{anchor}">{esc(label)}</a></li>' for anchor, label in entries)
    return f'<nav aria-label="Sommaire"><ul>{links}</ul></nav>'


def _data_date(ctx: _Context) -> str:
    documents = ctx.table("documents")
    if documents.empty:
        return ""
    dates = [d for d in documents["ingested_at"].dropna() if d]
    return f"Données lues jusqu'au {esc(fr_date(max(dates)[:10]))}." if dates else ""


CSS = """
:root{--ink:#1a1a1a;--muted:#555;--accent:#000091;--line:#d6d6e0;--soft:#f5f5fe}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif;
color:var(--ink);background:#fff;line-height:1.5;font-size:16px}
header.top{background:var(--accent);color:#fff;padding:1.6rem 1.5rem 1.2rem}
header.top h1{margin:0;font-size:1.9rem;line-height:1.2}
header.top p{margin:.35rem 0 0;opacity:.95}
nav{border-bottom:1px solid var(--line);background:var(--soft)}
nav ul{list-style:none;margin:0 auto;padding:.4rem 1.5rem;display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;max-width:1120px}
nav a{color:var(--accent);font-size:.92rem}
main{max-width:1120px;margin:0 auto;padding:0 1.5rem 3rem}
h2{color:var(--accent);font-size:1.5rem;margin:2.4rem 0 .8rem;padding-top:.6rem;border-top:3px solid var(--accent)}
h2 .num{display:block;font-size:.85rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
h3{font-size:1.15rem;margin:1.6rem 0 .6rem}
h4{font-size:1rem;margin:1.2rem 0 .4rem;color:#333}
a{color:var(--accent)}
a:focus{outline:3px solid #e69f00;outline-offset:2px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:.8rem;margin:1rem 0}
.figure{border:1px solid var(--line);border-left:4px solid var(--accent);padding:.7rem .8rem;background:#fff}
.figure .value{display:block;font-size:1.9rem;font-weight:700;color:var(--accent);line-height:1.1}
.figure .label{display:block;font-weight:600}
.figure .detail{display:block;color:var(--muted);font-size:.85rem}
ol.recurring{padding-left:1.4rem;margin:.4rem 0}
li.rec{margin:.2rem 0 .9rem}
li.rec p{margin:.1rem 0}
.statement{font-size:1.02rem}
a.quote{color:var(--ink);text-decoration-color:var(--accent);text-underline-offset:3px}
.src,.muted{color:var(--muted);font-size:.88rem}
.deps{font-size:.9rem}
.tag{display:inline-block;background:var(--soft);border:1px solid var(--line);border-radius:3px;padding:0 .35rem;
font-size:.8rem;color:#333;vertical-align:middle}
details{margin:.3rem 0}
summary{cursor:pointer;color:var(--accent);font-size:.88rem}
ul.wordings,ul.small{font-size:.88rem;margin:.3rem 0 .5rem}
.theme-figures{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1.4rem;margin:.3rem 0 .6rem}
.note{color:var(--muted);font-size:.88rem;max-width:60rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem}
figure{margin:.6rem 0 1rem}
figcaption{font-weight:600;margin-bottom:.3rem}
svg.chart{max-width:100%;height:auto;display:block;font-size:13px}
svg.chart .lbl{fill:var(--ink)}
svg.chart .val{fill:#333}
svg.chart .col{fill:var(--ink);font-weight:600;font-size:12px}
svg.chart .cell{font-size:12px;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
.legend{font-size:.85rem;color:var(--muted);display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .4rem}
.swatch{display:inline-block;width:1.1rem;height:.8rem;border:1px solid #999;margin-left:.5rem;vertical-align:middle}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0 1rem}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--soft)}
table.numbers td{text-align:right;font-variant-numeric:tabular-nums}
.empty{color:var(--muted);font-style:italic}
.nowrap{white-space:nowrap}
footer{max-width:1120px;margin:0 auto;padding:1rem 1.5rem 2rem;color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}
@media print{
 body{font-size:11pt}
 nav{display:none}
 header.top{background:none;color:#000;padding:0 0 .5rem;border-bottom:2px solid #000}
 main,footer{padding-left:0;padding-right:0}
 .figures{grid-template-columns:repeat(3,1fr)}
 h2{break-after:avoid;page-break-after:avoid}
 h3,h4{break-after:avoid}
 section.theme,#carte,#participants,#acteurs,#temporalites,#qualite{break-before:page}
 figure,li.rec,tr,.figure{break-inside:avoid}
 a{color:#000}
 details summary{color:#000}
 .charts{display:block}
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def render_report(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame, raw_link_prefix: str) -> str:
    """The whole page: summary, one section per theme, the cross views, data quality, method."""
    if recurring is None:
        recurring = pd.DataFrame(columns=COLUMNS["recurring_statements"])
    ctx = _context(tables, recurring, raw_link_prefix)
    body = "".join([
        summary_section(ctx),
        *(theme_section(ctx, i, theme) for i, theme in enumerate(THEMES, start=1)),
        heatmap_section(ctx), participants_section(ctx), actors_section(ctx), timeframes_section(ctx),
        quality_section(ctx), method_section(),
    ])
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(TITLE)} — États généraux du numérique pour l\'éducation</title>'
        f'<style>{CSS}</style></head><body>'
        f'<header class="top"><h1>{esc(TITLE)}</h1><p>{esc(SUBTITLE)}</p></header>'
        f'{_toc()}<main>{body}</main>'
        f'<footer>Document produit automatiquement à partir des restitutions départementales. {_data_date(ctx)} '
        'Les tableaux complets sont dans les fichiers CSV et le classeur Excel du même dossier.</footer>'
        '</body></html>\n'
    )
