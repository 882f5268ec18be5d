"""The cross-département synthesis: aggregates counted by hand, recurring
statements, the Excel workbook and the HTML report (down to a real
headless Chromium that must load nothing from the network)."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import CORPUS
from make_docx import restitution
from support import open_report

from pipeline.ingest.process import process_file
from pipeline.labels import SHEET_NAMES, column_label
from pipeline.publish.report import render_report
from pipeline.publish.workbook import (
    CODES_SHEET,
    LISTS_SHEET,
    RECURRING_SHEET,
    REVIEW_SHEET,
    SUMMARY_SHEET,
    workbook_bytes,
    write_workbook,
)
from pipeline.tables import aggregate
from pipeline.tables import rows as tables
from pipeline.tables.column_labels import sheet_columns
from pipeline.tables.recurring import COLUMNS as RECURRING_COLUMNS
from pipeline.tables.recurring import normalise, recurring_statements
from pipeline.tables.schemas import COLUMNS

ACCES = "Un égal accès au numérique pour tous"
ENSEIGNER = "Enseigner et apprendre avec le numérique"
GOUVERNANCE = "Gouvernance et anticipation"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --------------------------------------------------------------------------
# A small corpus whose figures can be counted by hand
# --------------------------------------------------------------------------


def _small_corpus(raw: Path) -> None:
    """Four current restitutions (72, 45, 89 complete; 53 partial), an
    older Sarthe session that the newer one replaces, and an encrypted PDF.

    Besides the rows below, the complete ones each carry the helper's
    projection (gouvernance: « Achats sans concertation » / « Associer les
    usagers » / « Comité départemental du numérique ») and plan d'action
    (travailler_ensemble: « Former les équipes » / « Parcours m@gistère »,
    Rectorat and Canopé, court terme); every intro declares 14 participants
    of the premier degré and 2 usagers.
    """
    raw.mkdir(parents=True, exist_ok=True)
    restitution(raw / "sarthe.docx", title="DSDEN de la Sarthe",
                date_place="Mercredi 14 octobre 2020 – Lycée Bellevue – Le Mans (72)", diagnostic_rows=[
                    [ACCES, ["Prêt de tablettes"], ["Zones blanches en milieu rural", "Manque de formation des enseignants"],
                     ["Mobilisation des communes"]],
                    [ENSEIGNER, "", ["Manque de vidéoprojecteurs"], ["Classes virtuelles bien accueillies"]],
                ])
    restitution(raw / "sarthe_ancienne.docx", title="DSDEN de la Sarthe",
                date_place="Lundi 28 septembre 2020 – Lycée Bellevue – Le Mans (72)", diagnostic_rows=[
                    [ACCES, "", ["Zones blanches en milieu rural"], ["Une première session très suivie"]],
                ])
    restitution(raw / "loiret.docx", title="DSDEN du Loiret",
                date_place="Vendredi 6 novembre 2020 – Lycée Voltaire – Orléans (45)", diagnostic_rows=[
                    [ACCES, "", ["Des zones blanches dans les territoires ruraux", "Des enseignants insuffisamment formés"],
                     ["Mobilisation des communes"]],
                    [ENSEIGNER, "", ["Temps d'écran excessif des élèves"], []],
                ])
    restitution(raw / "yonne.docx", title="DSDEN de l'Yonne",
                date_place="Vendredi 6 novembre 2020 – Lycée Pasteur – Auxerre (89)", diagnostic_rows=[
                    [ACCES, "", ["Formation des professeurs au numérique insuffisante",
                                 "Des tarifs de connexion trop élevés pour les familles"], ["Prêt de matériel aux familles"]],
                    [GOUVERNANCE, "", ["Des élèves trop longtemps devant les écrans"], []],
                ])
    restitution(raw / "mayenne.docx", title="DSDEN de la Mayenne", projection=False, plan=False,
                date_place="Jeudi 12 novembre 2020 – Lycée Douanier Rousseau – Laval (53)", diagnostic_rows=[
                    [ACCES, "", ["Zones blanches en milieu rural"], []],
                ])
    shutil.copy(CORPUS / "restitution_EGN_05_protege.pdf", raw / "protege.pdf")


def build_tables(raw: Path, classify: bool = False) -> dict[str, pd.DataFrame]:
    """The contract's tables, as the assets build them (classification optional: it takes seconds)."""
    results = tables.set_aside_duplicates([process_file(path, raw) for path in sorted(raw.iterdir()) if path.is_file()])
    if classify:
        from pipeline.classify.apply import classifiable_items, classify_items
        from pipeline.classify.classifier import Classifier

        classify_items(classifiable_items(results), Classifier())
    documents = tables.documents_table(results, {result.identity: "2020-12-01T00:00:00Z" for result in results})
    items = tables.items_table(results)
    participants = tables.participants_table(results)
    actions = tables.actions_table(results)
    return {
        "documents": documents, "participants": participants, "items": items, "actions": actions,
        "quarantine": tables.quarantine_table(results, documents),
        "theme_summary": aggregate.theme_summary(documents, items),
        "category_summary": aggregate.category_summary(documents, items),
        "department_theme_matrix": aggregate.department_theme_matrix(documents, items),
        "actors_summary": aggregate.actors_summary(documents, actions),
        "participants_summary": aggregate.participants_summary(documents, participants),
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, pd.DataFrame]:
    raw = tmp_path_factory.mktemp("small") / "raw"
    _small_corpus(raw)
    return build_tables(raw)


def _texts(frame: pd.DataFrame, item_ids: list[str]) -> set[str]:
    by_id = dict(zip(frame["item_id"], frame["text"]))
    return {by_id[i] for i in item_ids}


# --------------------------------------------------------------------------
# Aggregates, counted by hand
# --------------------------------------------------------------------------


def test_documents_statuses_and_current_files(small):
    documents = small["documents"].set_index("source_file")
    assert documents.loc["sarthe.docx", "status"] == "ok"
    assert documents.loc["mayenne.docx", "status"] == "partial"
    assert documents.loc["protege.pdf", "reason"] == "encrypted"
    assert documents.loc["sarthe_ancienne.docx", "is_current"] is False
    counted = aggregate.counted_ids(small["documents"])
    assert set(small["documents"].set_index("document_id").loc[sorted(counted), "departement_code"]) == {"72", "45", "89", "53"}


def test_theme_summary_counted_by_hand(small):
    summary = {(r["theme"], r["role"]): (r["n_items"], r["n_departements"])
               for r in small["theme_summary"].to_dict("records")}
    assert summary == {
        # 72: 2 irritants, 45: 2, 89: 2, 53: 1; the old Sarthe session does not count.
        ("acces", "irritant"): (7, 4),
        ("acces", "point_fort"): (3, 3),
        ("acces", "retex"): (1, 1),
        ("enseigner_apprendre", "irritant"): (2, 2),
        ("enseigner_apprendre", "point_fort"): (1, 1),
        # the projection's irritant in 72, 45, 89, plus the Yonne's diagnostic one
        ("gouvernance", "irritant"): (4, 3),
        ("gouvernance", "besoin"): (3, 3),
        ("gouvernance", "levier"): (3, 3),
        **{("travailler_ensemble", role): (3, 3) for role in ("levier", "action", "acteur", "temporalite", "indicateur")},
    }


def test_department_theme_matrix_counted_by_hand(small):
    matrix = small["department_theme_matrix"]
    assert list(matrix.columns) == COLUMNS["department_theme_matrix"]
    assert len(matrix) == 4 * 5
    roles = ["n_irritant", "n_point_fort", "n_besoin", "n_levier", "n_action"]
    cells = {(r["departement_code"], r["theme"]): tuple(r[role] for role in roles) for r in matrix.to_dict("records")}
    assert cells[("72", "acces")] == (2, 1, 0, 0, 0)
    assert cells[("72", "enseigner_apprendre")] == (1, 1, 0, 0, 0)
    assert cells[("72", "gouvernance")] == (1, 0, 1, 1, 0)
    assert cells[("72", "travailler_ensemble")] == (0, 0, 0, 1, 1)
    assert cells[("45", "enseigner_apprendre")] == (1, 0, 0, 0, 0)
    assert cells[("89", "gouvernance")] == (2, 0, 1, 1, 0)
    assert cells[("53", "acces")] == (1, 0, 0, 0, 0)
    assert all(value == (0, 0, 0, 0, 0) for (dep, theme), value in cells.items() if dep == "53" and theme != "acces")
    assert cells[("72", "responsable_souverain")] == (0, 0, 0, 0, 0)


def test_actors_summary_counted_by_hand(small):
    actors = small["actors_summary"].to_dict("records")
    assert [(a["actor"], a["n_actions"], a["n_departements"], a["themes"]) for a in actors] == [
        ("canope", 3, 3, ["travailler_ensemble"]),
        ("rectorat", 3, 3, ["travailler_ensemble"]),
    ]


def test_participants_summary_counted_by_hand(small):
    rows = {r["category"]: (r["n_departements_checked"], r["total_count"], r["n_departements_count_missing"])
            for r in small["participants_summary"].to_dict("records")}
    assert rows["premier_degre"] == (4, 56, 0)  # 14 in each of the four counted sessions
    assert rows["usagers"] == (4, 8, 0)
    assert rows["second_degre"] == (0, 0, 4)  # « à compléter » everywhere
    assert rows["edtech"] == (0, 0, 4)


# --------------------------------------------------------------------------
# Recurring statements
# --------------------------------------------------------------------------


def test_recurring_groups_on_the_small_corpus(small):
    recurring = recurring_statements(small["items"], small["documents"])
    assert list(recurring.columns) == RECURRING_COLUMNS
    groups = {(r["theme"], r["role"], frozenset(_texts(small["items"], r["item_ids"]))): r
              for r in recurring.to_dict("records")}
    zones = groups[("acces", "irritant", frozenset({"Zones blanches en milieu rural",
                                                   "Des zones blanches dans les territoires ruraux"}))]
    assert zones["departements"] == ["45", "53", "72"] and zones["n_departements"] == 3
    assert zones["representative"] == "Zones blanches en milieu rural"  # verbatim, the most central wording
    training = groups[("acces", "irritant", frozenset({
        "Manque de formation des enseignants", "Des enseignants insuffisamment formés",
        "Formation des professeurs au numérique insuffisante"}))]
    assert training["departements"] == ["45", "72", "89"]
    assert ("acces", "point_fort", frozenset({"Mobilisation des communes"})) in groups
    assert ("gouvernance", "irritant", frozenset({"Achats sans concertation"})) in groups
    # Never across themes: screen time is raised in two themes, once each.
    texts = set().union(*(key[2] for key in groups))
    assert "Temps d'écran excessif des élèves" not in texts
    assert "Des élèves trop longtemps devant les écrans" not in texts
    assert "Des tarifs de connexion trop élevés pour les familles" not in texts
    # Only counted documents: the replaced Sarthe session adds nothing.
    old = small["documents"].loc[small["documents"]["source_file"] == "sarthe_ancienne.docx", "document_id"].item()
    old_items = set(small["items"].loc[small["items"]["document_id"] == old, "item_id"])
    assert not old_items & {i for ids in recurring["item_ids"] for i in ids}
    assert len(recurring) == 8
    assert list(recurring["n_departements"]) == sorted(recurring["n_departements"], reverse=True)


def _fake(rows: list[tuple[str, str, str, str | None]], theme: str = "acces",
          role: str = "irritant") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items and documents for statements (département, item_id, text, category)."""
    deps = sorted({dep for dep, *_ in rows})
    documents = pd.DataFrame([{
        "document_id": f"doc{dep}", "source_file": f"{dep}.docx", "format": "docx", "status": "ok",
        "departement_code": dep, "is_current": True,
    } for dep in deps], dtype=object)
    items = pd.DataFrame([{
        "item_id": item_id, "document_id": f"doc{dep}", "departement_code": dep, "theme": theme, "role": role,
        "text": text, "category": category, "page": None,
    } for dep, item_id, text, category in rows], dtype=object)
    return items, documents


PARAPHRASES = [
    ("01", "a1", "Manque de formation des enseignants", "formation"),
    ("02", "a2", "Des enseignants insuffisamment formés", "formation"),
    ("03", "a3", "Former tous les acteurs de l'éducation", "formation"),
    ("04", "a4", "Formation des professeurs au numérique insuffisante", "formation"),
    ("01", "b1", "ENT saturé pendant le confinement", "outils_plateformes"),
    ("02", "b2", "Saturation de l'ENT lors du premier confinement", "outils_plateformes"),
    ("03", "b3", "Des ENT inaccessibles, saturés au début du confinement", "outils_plateformes"),
    ("01", "c1", "Parents démunis face aux outils numériques", "familles"),
    ("03", "c2", "Des parents en difficulté avec les outils numériques", "familles"),
    ("02", "d1", "Familles sous-équipées en matériel informatique", "equipement"),
    ("04", "d2", "Manque de matériel informatique dans les familles", "equipement"),
    # Not paraphrases of anything above, nor of each other.
    ("02", "x1", "Multiplicité des outils numériques", "outils_plateformes"),
    ("04", "x2", "L'absence de droit à la déconnexion effectif pour les personnels", "temps_organisation"),
    ("01", "x3", "Une connexion insuffisante au domicile de certains personnels", "connectivite"),
    ("03", "x4", "Des classes virtuelles interrompues par des problèmes de connexion", "connectivite"),
    ("04", "x5", "Des formations proposées hors du temps de service", "formation"),
]


def test_paraphrases_are_grouped_and_the_rest_is_not():
    items, documents = _fake(PARAPHRASES)
    recurring = recurring_statements(items, documents)
    groups = {frozenset(r["item_ids"]) for r in recurring.to_dict("records")}
    assert frozenset({"a1", "a2", "a3", "a4"}) in groups
    assert frozenset({"b1", "b2", "b3"}) in groups
    assert frozenset({"c1", "c2"}) in groups
    assert frozenset({"d1", "d2"}) in groups
    grouped = {i for group in groups for i in group}
    assert not grouped & {"x1", "x2", "x3", "x4", "x5"}
    training = recurring[recurring["item_ids"].map(lambda ids: "a1" in ids)].iloc[0]
    assert training["representative"] in {text for _, _, text, _ in PARAPHRASES[:4]}
    assert training["departements"] == ["01", "02", "03", "04"]


def test_one_departement_alone_is_not_recurring():
    items, documents = _fake([("01", "a", "Zones blanches en milieu rural", None),
                              ("01", "b", "Des zones blanches dans les territoires ruraux", None),
                              ("02", "c", "Une fracture numérique persistante", None)])
    assert recurring_statements(items, documents).empty


def test_normalisation_meets_on_stems():
    def stems(text: str) -> set[str]:
        return set(normalise(text).split())

    assert stems("Manque de formation des enseignants") == stems("Des enseignants insuffisamment formés") == {"form", "enseign"}
    assert normalise("Former tous les acteurs de l'éducation") == "form"
    assert "team" in normalise("Les équipes pédagogiques") and "equip" in normalise("Des familles sous-équipées")


def test_group_ids_are_stable_and_order_independent():
    items, documents = _fake(PARAPHRASES)
    first = recurring_statements(items, documents)
    shuffled = recurring_statements(items.sample(frac=1, random_state=3).reset_index(drop=True), documents)
    pd.testing.assert_frame_equal(first, shuffled)
    assert first["group_id"].str.fullmatch(r"[0-9a-f]{12}").all()
    assert first["group_id"].is_unique


# --------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------


def test_workbook_sheets_filters_and_no_formula(small, tmp_path):
    hostile = {k: v.copy() for k, v in small.items()}
    items = hostile["items"]
    items.loc[items.index[0], "text"] = '=HYPERLINK("http://x")'
    items.loc[items.index[1], "text"] = "+33 1 23"
    items.loc[items.index[2], "text"] = "-2 postes"
    items.loc[items.index[3], "text"] = "@SOMME(A1:A2)"
    recurring = recurring_statements(items, hostile["documents"])
    path = tmp_path / "egn.xlsx"
    write_workbook(path, hostile, recurring)
    assert not [p for p in tmp_path.iterdir() if p.name != "egn.xlsx"]  # no temporary file left over

    workbook = openpyxl.load_workbook(path)
    tables_shown = [name for name in COLUMNS if name not in ("review_queue", "recurring_statements")]
    assert workbook.sheetnames == [REVIEW_SHEET, SUMMARY_SHEET, *(SHEET_NAMES[name] for name in tables_shown),
                                   RECURRING_SHEET, CODES_SHEET, LISTS_SHEET]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), sheet.title
        widths = [dim.width for dim in sheet.column_dimensions.values()]
        assert widths and all(8 <= width <= 70 for width in widths), sheet.title
    statements = workbook[SHEET_NAMES["items"]]
    header = [cell.value for cell in statements[1]]
    assert header == [column.header for column in sheet_columns("items")]
    texts = [row[header.index(column_label("items", "text"))] for row in statements.iter_rows(min_row=2)]
    by_value = {cell.value: cell for cell in texts}
    for value in ('=HYPERLINK("http://x")', "+33 1 23", "-2 postes", "@SOMME(A1:A2)"):
        assert by_value[value].data_type == "s"
    assert statements.max_row == len(items) + 1
    recurring_sheet = workbook[RECURRING_SHEET]
    recurring_header = [c.value for c in recurring_sheet[1]]
    assert recurring_header == [column.header for column in sheet_columns("recurring_statements")]
    departements = recurring_sheet.cell(row=2, column=recurring_header.index(column_label("recurring_statements",
                                                                                           "departements")) + 1)
    assert " | " in departements.value  # départements joined like the CSV
    summary = {row[1]: row[2] for row in workbook[SUMMARY_SHEET].iter_rows(min_row=2, values_only=True)}
    assert summary["Départements pris en compte"] == 4
    assert summary["Fichiers rejetés"] == 1


def test_workbook_bytes_depend_only_on_the_tables(small):
    """No clock in the file: the document's dates are when the newest file was
    first seen, every zip entry has one fixed date, so equal tables give equal bytes."""
    recurring = recurring_statements(small["items"], small["documents"])
    first = workbook_bytes(small, recurring)
    assert workbook_bytes({k: v.copy() for k, v in small.items()}, recurring.copy()) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    properties = openpyxl.load_workbook(io.BytesIO(first)).properties
    newest = pd.to_datetime(small["documents"]["ingested_at"], utc=True).max().to_pydatetime().replace(tzinfo=None)
    assert properties.created == properties.modified == newest


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
TRICKY_NAME = "restitution <E> & 'x'.docx"


@pytest.fixture(scope="module")
def report_case(tmp_path_factory):
    """The small corpus, two PDFs (pages), and hostile text in two départements."""
    base = tmp_path_factory.mktemp("report")
    raw = base / "raw"
    _small_corpus(raw)
    for name in ("Trame_restitution_EGN_DSDEN31_VF.pdf", "EGNum_Marne_synthese.pdf"):
        shutil.copy(CORPUS / name, raw / name)
    restitution(raw / TRICKY_NAME, title="DSDEN de la Corrèze",
                date_place="Mardi 10 novembre 2020 – Lycée Cabanis – Brive (19)", diagnostic_rows=[
                    [ENSEIGNER, "", [SCRIPT, "Manque de vidéoprojecteurs"], ["<b>gras</b> & « guillemets »"]],
                ])
    restitution(raw / "cantal.docx", title="DSDEN du Cantal",
                date_place="Mercredi 18 novembre 2020 – Collège Jean Jaurès – Aurillac (15)", diagnostic_rows=[
                    [ENSEIGNER, "", [SCRIPT], []],
                ])
    built = build_tables(raw, classify=True)
    recurring = recurring_statements(built["items"], built["documents"])
    page = render_report(built, recurring, "../raw/")
    out = base / "rapport"
    out.mkdir()
    (out / "index.html").write_text(page, encoding="utf-8")
    return built, recurring, page, out / "index.html"


def test_report_sections_and_recurring_statements(report_case):
    built, recurring, page, _ = report_case
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    for title in ("L'essentiel", "Les trois irritants les plus récurrents", "Garantir un égal accès au numérique pour tous",
                  "Enseigner et apprendre avec le numérique", "Catégories d'irritants les plus citées",
                  "Catégories de leviers les plus citées", "Énoncés récurrents", "Départements × thèmes",
                  "Académies et départements", "Participants", "Acteurs des plans d'action", "Échéances des actions",
                  "Qualité des données", "Méthode"):
        assert title in html.unescape(page), title
    assert "« Zones blanches en milieu rural »" in page
    assert "72 Sarthe" in page and "45 Loiret" in page
    assert "PDF protégé par mot de passe" in page  # the rejected file, with its reason…
    assert "protégé par un mot de passe" in page  # …and its message
    assert page.count("<svg") >= 5


def test_report_escapes_document_text(report_case):
    _, recurring, page, _ = report_case
    assert SCRIPT in set(recurring["representative"])  # raised by two départements: quoted in the report
    assert page.lower().count("<script") == 1  # the page's own search script, and nothing from a document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>gras</b>" not in page and "<E>" not in page
    assert "restitution%20%3CE%3E%20%26%20%27x%27.docx" in page  # the file name, url-quoted in links


def test_report_links_to_sources_and_pages(report_case):
    built, _, page, _ = report_case
    assert 'href="../raw/sarthe.docx"' in page
    assert "../raw/Trame_restitution_EGN_DSDEN31_VF.pdf#page=" in page
    assert "../raw/EGNum_Marne_synthese.pdf#page=" in page
    # Nothing to fetch: no remote link, image, stylesheet or font.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\(|@import|<link|<img|<iframe|<object|<embed", page, re.IGNORECASE)


def test_report_is_self_contained_in_a_real_browser(report_case, tmp_path):
    """Debian's Chromium opens the page from disk: no console error, no
    request other than file://, and a screenshot to look at."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, _, _, index = report_case
    requests: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = open_report(browser, index, 1280, problems, requests)
            page.wait_for_timeout(300)
            assert page.title().startswith("Synthèse nationale des restitutions")
            assert page.locator("h2").count() >= 10
            assert page.locator("svg.chart").count() >= 5
            assert page.evaluate("document.querySelectorAll('script').length") == 1
            shot = tmp_path / "rapport.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
