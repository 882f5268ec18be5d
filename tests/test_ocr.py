"""Scanned PDFs: read by OCR into the same restitution as their text-layer original.

The scan fixture is pages 3–4 of the Sarthe PDF rasterised at 200 dpi,
rotated 0.7° and sprinkled with grey noise (tests/make_ocr_fixtures.py);
it is read once for the whole module (Tesseract takes seconds per page).
"""

from __future__ import annotations

import functools
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import CORPUS, FIXTURES
from support import match_items, normalise

from assets.documents import _file_metadata
from pipeline.batch import Origin
from pipeline.ingest import cache, process
from pipeline.ingest.errors import RejectedFile
from pipeline.ingest.parse.document import parse_layout
from pipeline.ingest.process import process_file, table_header
from pipeline.ingest.readers import ocr, tesseract
from pipeline.ingest.readers.page_image import SETTINGS, analyse, skew_angle
from pipeline.ingest.readers.pdf_reader import layout_from_pages, page_from_words
from pipeline.labels import YES_NO
from pipeline.model import Layout, Paragraph, Table
from pipeline.publish.export import format_value
from pipeline.tables.rows import document_row
from pipeline.tables.schemas import COLUMNS
from pipeline.text import split_statements

SCAN = FIXTURES / "generated" / "scan_sarthe-72_p3-4.pdf"
SCAN_PAGES = (3, 4)
DPI = 200
# Scanned pages of two national restitutions (tests/make_ocr_fixtures.py).
SCAN_PLAN = FIXTURES / "generated" / "scan_24_p9.pdf"
SCAN_CARRIED_OVER = FIXTURES / "generated" / "scan_DSDEN15_p6.pdf"
SCAN_INDICATORS = FIXTURES / "generated" / "scan_Isere_p8.pdf"
# Tables drawn without rules, scanned (tests/make_ocr_fixtures.py).
NO_BORDERS = FIXTURES / "generated" / "ille-et-vilaine_no_borders.pdf"
SCAN_NO_BORDERS = FIXTURES / "generated" / "scan_ille-et-vilaine_no_borders_p4-6.pdf"
SCAN_NO_BORDERS_PAGES = (4, 6)
SCAN_NO_BORDERS_PLAN = FIXTURES / "generated" / "scan_ardennes_no_borders_p8-9.pdf"
# An introduction whose session row is one cell across the table (tests/make_ocr_fixtures.py).
SCAN_SESSION_ROW = FIXTURES / "generated" / "scan_37_p4.pdf"
# A participants table scanned clean, whose "6" Tesseract's page reading drops.
SCAN_COUNTS = FIXTURES / "generated" / "scan_21_p4.pdf"
# A fiche mesure's end, then a fiche whose theme title runs over two lines;
# a fiche whose title's second line is one word in capitals.
SCAN_FICHE_TITLE = FIXTURES / "generated" / "scan_Isere_p9-10.pdf"
SCAN_FICHE_TITLE_CAPITALS = FIXTURES / "generated" / "scan_aube_p9.pdf"


@functools.cache
def _processed(path):
    return process_file(path, path.parent)


def _text_layer_truth() -> dict:
    """What the text-layer PDF gives for the scanned pages, as a truth file;
    without the row that the page break cuts, which goes on beyond them."""
    original = _processed(CORPUS / "sarthe-72.pdf")
    shown = [i for i in original.items if i.page in SCAN_PAGES]
    going_on = {i.table_index for i in original.items if i.page > max(SCAN_PAGES)}
    cut = {(t, max(i.row_index for i in shown if i.table_index == t))
           for t in going_on if any(i.table_index == t for i in shown)}
    return {"items": [{"section": i.section, "role": i.role, "text": i.text, "theme": i.theme}
                      for i in shown if (i.table_index, i.row_index) not in cut]}


def test_scan_reads_like_its_text_layer_original():
    scan, original = _processed(SCAN), _processed(CORPUS / "sarthe-72.pdf")
    assert (scan.format, scan.ocr, scan.n_pages) == ("pdf", True, 2)
    assert 0.8 <= scan.ocr_confidence <= 1.0
    # Introduction, RETEX and the start of the diagnostic: not the projection nor the plan.
    assert (scan.status, scan.reason) == ("partial", "missing_sections")
    assert scan.restitution.meta.departement_code == "72"
    for field in ("departement", "academie", "region_academique", "session_date", "session_format"):
        assert getattr(scan.restitution.meta, field) == getattr(original.restitution.meta, field), field
    assert normalise(scan.restitution.meta.session_place) == normalise(original.restitution.meta.session_place)
    # The check boxes, decided by their ink (session format "Les 2"; participants).
    assert scan.restitution.participants == original.restitution.participants
    # Both sides without the row cut by the page break (the last row read).
    truth = _text_layer_truth()
    last_row = max((i.table_index, i.row_index) for i in scan.items if i.table_index is not None)
    uncut = SimpleNamespace(items=[i for i in scan.items if (i.table_index, i.row_index) != last_row])
    scores = match_items(uncut, truth)
    assert len(truth["items"]) >= 6 and scores["f1"] >= 0.9, scores["missed"]
    assert scores["theme_acc"] == 1.0


def _cell_statements(path) -> list[str]:
    layout = ocr.read_scan(path.read_bytes(), RejectedFile("not_a_restitution", "")).layout
    return [statement.text for block in layout.blocks if isinstance(block, Table)
            for row in block.rows for cell in row for statement in split_statements(cell.lines)]


def test_scanned_statements_on_one_and_a_half_spaced_lines_stay_whole():
    """A plan d'action whose cells are set 1.5-spaced: a body line's size
    is the usual line height, so the blank between its lines is no
    paragraph break; and "à" opening a line of a justified column is a
    word, not a bullet, however wide the space after it."""
    texts = _cell_statements(SCAN_PLAN)
    assert "Utiliser les outils d'évaluation formative (quiz, exerciseurs)" in texts
    assert "Emmaüs Connect, associations d'éducation populaire" in texts
    assert "Dispositif Devoirs faits à distance pour les collégiens" in texts


def test_a_bullet_tesseract_sets_on_a_line_of_its_own_is_a_bullet():
    """Tesseract may read a "▶" as ">" on a line of its own, beside its
    text's line: it is still the statement's bullet, not its first word."""
    texts = _cell_statements(SCAN_INDICATORS)
    assert "Consommation électrique des équipements numériques" in texts
    assert not any(text.startswith(">") for text in texts)


def test_the_one_word_of_a_nearly_blank_grainy_page_is_read():
    """Page 6 of a restitution holds only the last word of a row the page
    break cut ("autonomie"): Tesseract finds no word on the grainy page as
    scanned, and reads it once the paper is made white."""
    assert _cell_statements(SCAN_CARRIED_OVER) == ["autonomie"]


def test_a_scanned_table_drawn_without_rules_reads_like_its_text_layer():
    """The introduction and a diagnostic table carried over a page break,
    drawn without any rule: the page image shows no grid, so the table is
    rebuilt from the OCR words below its header, as in a text PDF."""
    scan, original = _processed(SCAN_NO_BORDERS), _processed(NO_BORDERS)
    # Check boxes and counts: a count alone in its Tesseract block, first
    # read "ES" and "Le)]", is read again on its own ("4", "6").
    assert scan.restitution is not None and scan.restitution.participants == original.restitution.participants
    first, last = SCAN_NO_BORDERS_PAGES
    truth = {"items": [{"section": i.section, "role": i.role, "text": i.text, "theme": i.theme}
                       for i in original.items if first <= i.page <= last]}
    scores = match_items(scan, truth)
    assert len(truth["items"]) >= 15 and scores["f1"] == 1.0, scores["missed"]
    assert scores["theme_acc"] == 1.0


def test_a_scanned_plan_without_rules_keeps_its_rows_whole():
    """A plan d'action without rules: Tesseract reads a row's columns as
    one line set at two heights (a tall box of body letters, no title that
    would end the table); "À" opening a cell is a word, not a bullet; the
    last row goes on over the page break, whose page holds three lines."""
    scan = _processed(SCAN_NO_BORDERS_PLAN)
    texts = {(i.role, normalise(i.text).replace(" ", "")) for i in scan.items}
    for role, text in [
        ("temporalite", "À l'horizon 2025"),
        ("temporalite", "À définir avec les partenaires"),
        ("action", "Création d'un fonds d'aide à la connexion pour les familles boursières"),
        ("action", "Signature d'une convention entre la DSDEN et le Département sur l'équipement des collèges"),
        ("indicateur", "Nombre de familles équipées grâce au prêt de matériel"),
    ]:
        assert (role, normalise(text).replace(" ", "")) in texts, text
    assert {i.theme for i in scan.items} == {"gouvernance", "travailler_ensemble", "enseigner_apprendre", "acces"}


def test_a_dash_under_another_rows_column_wall_stays_a_dash():
    """The session's row is one cell across the introduction table; the
    rows below it have a column wall just before "- Tours". The wall
    parts only its own cells' lines, so the dash is not read as a run's
    bullet and the place stays whole."""
    scan = _processed(SCAN_SESSION_ROW)
    assert scan.restitution is not None
    meta = scan.restitution.meta
    assert (meta.departement_code, meta.session_date) == ("37", "2020-10-09")
    assert normalise(meta.session_place) == normalise("Lycée Jean Moulin – Tours (37)")


def test_a_count_dropped_after_its_colon_is_read_again():
    """Tesseract reads the page's "Nombre de participants : 6" without its
    "6" (and a "0" below it as "oO", across two lines). A line that stops
    at a colon with ink on its right is read again whole: it ends with ":6"."""
    scan = _processed(SCAN_COUNTS)
    assert scan.restitution is not None
    counts = {p.category: p.count for p in scan.restitution.participants if p.checked}
    # As printed on the page: the count of "chercheurs" is the one dropped.
    assert counts == {"premier_degre": 36, "second_degre": 19, "representants_academiques": 1,
                      "associations": 10, "chercheurs": 6}


def _fiche_items(path) -> list:
    layout = ocr.read_scan(path.read_bytes(), RejectedFile("not_a_restitution", ""), header=table_header).layout
    return [item for item in parse_layout(layout).items if item.section == "fiche"]


def test_a_fiche_title_on_two_lines_stays_one_heading():
    """Page 10 opens with a fiche's theme on two title lines ("Travailler
    ensemble autrement/ Culture numérique | professionnelle commune"),
    whose Tesseract boxes differ (a "q" reaches lower): they are one size,
    so one heading, not a last besoin of the fiche above."""
    fiches = _fiche_items(SCAN_FICHE_TITLE)
    assert not any("Travailler ensemble" in item.text for item in fiches)
    assert [item.theme for item in fiches if item.role == "besoin"] == \
        ["responsable_souverain", "travailler_ensemble", "travailler_ensemble"]


def test_a_fiche_title_whose_last_line_is_one_short_word_keeps_it():
    """"#1 GARANTIR UN ÉGAL ACCÈS AU NUMÉRIQUE POUR | TOUS": the second
    line's box is far shorter (no accent, no descender), yet its capitals
    are as tall, so it goes on with the title and the fiche has its theme."""
    fiches = _fiche_items(SCAN_FICHE_TITLE_CAPITALS)
    assert len(fiches) >= 5 and {item.theme for item in fiches} == {"acces"}


def test_scan_without_restitution_sections_is_not_a_restitution():
    # The dev corpus scan: cover and préambule only, at 70 dpi (read at 200).
    result = _processed(CORPUS / "scan_restitution_EGN_87.pdf")
    assert (result.status, result.reason, result.ocr) == ("rejected", "not_a_restitution", True)


def test_without_tesseract_a_scan_is_quarantined_with_a_french_message(tmp_path, monkeypatch):
    monkeypatch.setattr(tesseract.pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "absent"))
    tesseract.engine.cache_clear()
    try:
        assert tesseract.engine() is None
        result = process_file(SCAN, SCAN.parent)
    finally:
        tesseract.engine.cache_clear()
    assert (result.status, result.reason, result.ocr) == ("rejected", "no_text_layer", False)
    assert "reconnaissance de caractères n'est pas installée" in result.message


def test_the_extraction_cache_key_follows_the_ocr_engine(monkeypatch):
    cache.code_version.cache_clear()
    with_engine = cache.code_version("extraction")
    monkeypatch.setattr(tesseract, "engine", lambda: None)
    cache.code_version.cache_clear()
    try:
        assert cache.code_version("extraction") != with_engine
    finally:
        cache.code_version.cache_clear()


def test_the_deadline_grows_with_the_number_of_scanned_pages(monkeypatch):
    def slow_ocr(data, no_text, header):
        time.sleep(0.6)
        return ocr.ScanLayout(layout=Layout(blocks=[], n_pages=2), confidence=0.5)

    monkeypatch.setattr(ocr, "read_scan", slow_ocr)
    monkeypatch.setattr(process, "MAX_SECONDS_PER_FILE", 0.3)
    monkeypatch.setattr(ocr, "SECONDS_PER_PAGE", 0.0)
    assert process_file(SCAN, SCAN.parent).reason == "too_large"
    monkeypatch.setattr(ocr, "SECONDS_PER_PAGE", 1.0)  # 2 pages: 2.3 s
    assert process_file(SCAN, SCAN.parent).reason == "not_a_restitution"


def test_documents_csv_ends_with_the_ocr_columns_and_the_ui_says_ocr():
    assert COLUMNS["documents"][-2:] == ["ocr", "ocr_confidence"]
    scan, text = _processed(SCAN), _processed(CORPUS / "sarthe-72.pdf")
    scan_row, text_row = document_row(scan, "2026-01-01T00:00:00Z"), document_row(text, "2026-01-01T00:00:00Z")
    assert list(scan_row)[-2:] == ["ocr", "ocr_confidence"]
    assert format_value(scan_row["ocr"]) == "true" and 0.8 <= scan_row["ocr_confidence"] <= 1.0
    assert format_value(text_row["ocr"]) == "false" and text_row["ocr_confidence"] is None
    metadata = _file_metadata(scan, Origin.NEW)
    assert metadata["lu par OCR"] == YES_NO[True] and metadata["confiance OCR"] == scan.ocr_confidence


# --------------------------------------------------------------------------
# The page image, on drawn pages (no Tesseract)
# --------------------------------------------------------------------------


def _page() -> np.ndarray:
    """A white A4 page at 200 dpi with a 2 × 3 ruled table, text lines and
    three 4-mm boxes: one crossed, one empty, one next to an "O" and a "U"."""
    page = np.full((2339, 1654), 255, np.uint8)
    for y in (300, 420, 540):
        cv2.line(page, (150, y), (1500, y), 0, 2)
    for x in (150, 600, 1050, 1500):
        cv2.line(page, (x, 300), (x, 540), 0, 2)
    for k in range(12):
        cv2.putText(page, "Texte de la trame de restitution " * 2, (150, 700 + 60 * k),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    side = 31  # 4 mm
    for x, crossed in ((200, True), (400, False)):
        cv2.rectangle(page, (x, 1600), (x + side, 1600 + side), 0, 2)
        if crossed:
            cv2.line(page, (x, 1600), (x + side, 1600 + side), 0, 2)
            cv2.line(page, (x + side, 1600), (x, 1600 + side), 0, 2)
    cv2.putText(page, "O U D", (600, 1630), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    return page


def _rotated(page: np.ndarray, degrees: float) -> np.ndarray:
    height, width = page.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(page, matrix, (width, height), borderValue=255)


def test_deskew_measures_the_tilt_of_a_page():
    page = _page()
    assert abs(skew_angle(page)) < SETTINGS.fine_skew_step
    assert skew_angle(_rotated(page, 1.5)) == pytest.approx(1.5, abs=2 * SETTINGS.fine_skew_step)
    assert skew_angle(_rotated(page, -0.8)) == pytest.approx(-0.8, abs=2 * SETTINGS.fine_skew_step)


def test_ruling_lines_become_a_table_grid_and_boxes_are_decided_by_their_ink():
    noisy = np.clip(_rotated(_page(), 0.7) + np.random.default_rng(0).normal(0, 10, (2339, 1654)), 0, 255)
    analysis = analyse(noisy.astype(np.uint8), DPI)
    assert len(analysis.grids) == 1
    (x0, top, x1, bottom), rows = analysis.grids[0]
    assert [len(row) for row in rows] == [3, 3]
    assert x0 == pytest.approx(150 * 72 / DPI, abs=3) and bottom == pytest.approx(540 * 72 / DPI, abs=3)
    assert [mark.glyph for mark in sorted(analysis.marks, key=lambda m: m.left)] == ["☒", "☐"]
    # The rules and the boxes are whited out of what Tesseract reads.
    assert analysis.for_ocr[420 - 1:420 + 2, 300:1400].min() > 128


def test_a_footer_whose_dashes_ocr_reads_differently_from_page_to_page_is_dropped():
    """The footers of a ten-page scan as Tesseract read them (the national
    corpus's Nord restitution): one footer, three dashes ("-", "–", "—")
    from page to page. Each variant is on too few pages to repeat, unless
    punctuation is set aside; the footer then reaches no statement."""
    dashes = "–—-—————-—"
    pages = []
    for number, dash in enumerate(dashes, start=1):
        footer = f"EGN 2020 {dash} Trame de restitution — DSDEN 59 — page {number}"
        words = [{"text": text, "x0": 100.0 + 40 * k, "x1": 130.0 + 40 * k, "top": top, "bottom": top + 7.0,
                  "size": 7.0, "fontname": ""}
                 for top, line in ((400.0, f"Constat de la page {number}"), (797.5, footer))
                 for k, text in enumerate(line.split())]
        pages.append(page_from_words(number, 842.0, words, []))
    lines = [block.line.text for block in layout_from_pages(pages).blocks if isinstance(block, Paragraph)]
    assert lines == [f"Constat de la page {number}" for number in range(1, 11)]
