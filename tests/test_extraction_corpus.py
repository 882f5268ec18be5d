"""Extraction of real restitutions (DOCX and PDF) against hand-written truth."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import CORPUS, FIXTURES, truth_of
from support import match_items

from pipeline.ingest.process import process_file as _process_file
from pipeline.model import DocumentResult


@cache
def process_file(path, root) -> DocumentResult:
    """Each document is read once for all the tests of this module."""
    return _process_file(path, root)

RESTITUTIONS = [
    "sarthe-72.docx",  # the template itself: split tables, sub-bullets, fiche, annexes
    "sarthe-72.pdf",  # the same, exported by LibreOffice: rows cut by page breaks
    "Trame de restitution EGN 83.pdf",  # a theme label cut in two by a page break
    "EGNum_Marne_synthese.pdf",  # another layout engine; a new row at the top of a page
    "Trame_restitution_EGN_DSDEN31_VF.pdf",  # a header row cut by a page break
    "Trame_restitution_EGN_DSDEN89.pdf",  # a header alone at the bottom of a page
    "01_restitution_etats_generaux_numerique_VF.docx",  # format check boxes in one cell
    "EGNum_Bouches_du_rhone_synthese_def.docx",  # fiche followed by an annex
    "EGNum_Ille_et_vilaine_synthese_def.docx",
    "35_restitution_etats_generaux_numerique_v1_premiere_session.pdf",
    "Trame_restitution_EGN_02.odt",  # OpenDocument: spanned cells, list depth, page breaks in styles
]


@pytest.mark.parametrize("name", RESTITUTIONS)
def test_items_match_truth(name):
    result = process_file(CORPUS / name, CORPUS)
    truth = truth_of(name)
    assert result.status == truth["expect_status"], result.message
    scores = match_items(result, truth)
    assert scores["f1"] >= 0.97, scores["missed"]
    assert scores["theme_acc"] >= 0.99


@pytest.mark.parametrize("name", RESTITUTIONS)
def test_metadata_and_participants_match_truth(name):
    result = process_file(CORPUS / name, CORPUS)
    truth = truth_of(name)
    meta = result.restitution.meta
    expected = truth["document"]
    for field in ("departement_code", "departement", "academie", "region_academique",
                  "session_date", "session_format"):
        assert getattr(meta, field) == expected[field], field
    assert expected["session_place"].casefold() in (meta.session_place or "").casefold()
    got = [(p.category, p.checked, p.count) for p in result.restitution.participants]
    want = [(p["category"], p["checked"], p["count"]) for p in truth["participants"]]
    assert got == want


@pytest.mark.parametrize("name", RESTITUTIONS)
def test_action_rows_match_truth(name):
    result = process_file(CORPUS / name, CORPUS)
    truth = truth_of(name)
    got = [(a.theme, set(a.acteurs), a.temporalite) for a in result.restitution.actions]
    want = [(a["theme"], set(a["acteurs"]), a["temporalite"]) for a in truth["actions"]]
    assert got == want


def test_pdf_and_docx_of_the_same_document_give_the_same_statements():
    docx = process_file(CORPUS / "sarthe-72.docx", CORPUS)
    pdf = process_file(CORPUS / "sarthe-72.pdf", CORPUS)
    assert [(i.section, i.theme, i.role, i.text) for i in pdf.items] == [
        (i.section, i.theme, i.role, i.text) for i in docx.items
    ]
    assert all(i.page for i in pdf.items) and not any(i.page for i in docx.items)


def test_theme_label_cut_to_a_word_every_theme_shares_continues_its_row():
    """LibreOffice's PDF of the Ain DOCX (tests/make_ocr_fixtures.py) cuts
    the row "ENSEIGNER ET APPRENDRE AVEC LE | NUMÉRIQUE" at a page break.
    "NUMÉRIQUE" alone names no theme (it is a word of four labels), so the
    row goes on over the page: it was read as a new "accès" row, which cut
    two statements in two and gave six the wrong theme."""
    pdf = FIXTURES / "generated" / "01_restitution_etats_generaux_numerique_VF.pdf"
    result = process_file(pdf, pdf.parent)
    assert result.status == "ok"
    scores = match_items(result, truth_of("01_restitution_etats_generaux_numerique_VF.docx"))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]
    row = [(i.role, i.text) for i in result.items if i.section == "diagnostic" and i.row_index == 5]
    assert ("irritant", "Une multiplication des canaux de transmission du travail (ENT, courriel, messagerie)") in row
    assert ("point_fort", "Des élèves qui ont gagné en compétences numériques") in row
    assert {i.theme for i in result.items if i.section == "diagnostic" and i.row_index == 5} == {"enseigner_apprendre"}


def test_session_place_wrapped_at_its_hyphen_is_one_name():
    """LibreOffice's PDF of a national-corpus DOCX (tests/make_ocr_fixtures.py)
    wraps the session's place at its hyphen, "Saint-|Brieuc": the place is
    read as the DOCX gives it, not "Saint- Brieuc"."""
    pdf = FIXTURES / "generated" / "Trame de restitution EGN 22_VF.pdf"
    meta = process_file(pdf, pdf.parent).restitution.meta
    assert (meta.session_date, meta.session_place) == ("2020-11-27", "Lycée professionnel Gustave Eiffel, Saint-Brieuc")


def test_sub_bullet_is_joined_to_its_parent_and_annexes_give_nothing():
    result = process_file(CORPUS / "sarthe-72.docx", CORPUS)
    texts = [i.text for i in result.items]
    assert "Peu d'usage parfois – Besoin d'harmoniser les outils : les mêmes pour tous !!" in texts
    assert not any("Besoin d'harmoniser" == t[:20] for t in texts)
    # The Le Mans Métropole project annexed to the Sarthe document has tables of its own.
    assert not any("Collège Costa Gavras" in t or "Cendrine" == t for t in texts)
    fiche = [i for i in result.items if i.section == "fiche"]
    assert {i.role for i in fiche} == {"action", "difficulte", "temporalite", "besoin"}


def test_retex_title_without_stated_theme_is_unknown_and_with_theme_is_resolved():
    sarthe = process_file(CORPUS / "sarthe-72.docx", CORPUS)
    assert {i.theme for i in sarthe.items if i.section == "retex"} == {"inconnu"}
    var = process_file(CORPUS / "Trame de restitution EGN 83.pdf", CORPUS)
    retex = [(i.text, i.theme) for i in var.items if i.section == "retex"]
    assert ("L'état des lieux des équipements des écoles mené avec l'association des maires", "gouvernance") in retex


@pytest.mark.parametrize("pdf, docx", [
    # LibreOffice's PDF of the Ain DOCX: narrow plan d'action columns
    (FIXTURES / "generated" / "01_restitution_etats_generaux_numerique_VF.pdf",
     "01_restitution_etats_generaux_numerique_VF.docx"),
    (CORPUS / "35_restitution_etats_generaux_numerique_v1_premiere_session.pdf", None),
    # "Accompagnem|ent": a word cut by the page break that cuts its row
    (CORPUS / "Trame_restitution_EGN_DSDEN31_def.pdf", None),
])
def test_words_a_column_cuts_are_read_whole(pdf, docx):
    """A word wider than its column is cut with no hyphen
    ("départemental|e"), a single word fills a line before the next word
    ("renouvellement|du", "décrocheurs|recontactés"), a closing bracket
    wraps alone. French words tell a cut from two words
    (readers/lexicon.py): every statement reads as its truth writes it."""
    result = process_file(pdf, pdf.parent)
    truth = [item["text"] for item in truth_of(docx or pdf.name)["items"]]
    assert len(result.items) == len(truth)
    assert [item.text for item in result.items if item.text not in truth] == []


def test_a_word_cut_on_a_line_of_several_words_is_read_whole():
    """The Marne PDF's layout engine cuts a word wherever the line ends,
    even after other words: "Prévoir systémati|quement" in its plan d'action
    (its projection table writes the statement on one line)."""
    result = process_file(CORPUS / "EGNum_Marne_synthese.pdf", CORPUS)
    texts = {item.text for item in result.items if item.section == "plan_action"}
    assert "Prévoir systématiquement une alternative papier pour les familles éloignées du numérique" in texts


def test_theme_cell_holding_only_a_bullet_takes_the_theme_above():
    """A row added below a bulleted theme cell keeps its list format: in
    LibreOffice's PDF of the Ille-et-Vilaine DOCX so changed
    (tests/make_ocr_fixtures.py) the new row's theme cell shows a lone "•".
    It is an empty theme cell: the row is of the theme above, not unknown."""
    pdf = FIXTURES / "generated" / "ille-et-vilaine_row_added.pdf"
    result = process_file(pdf, pdf.parent)
    scores = match_items(result, truth_of("EGNum_Ille_et_vilaine_synthese_def.docx"))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]
    assert "inconnu" not in {i.theme for i in result.items if i.section == "diagnostic"}


def test_plain_paragraph_statements_of_a_pdf_are_told_by_their_spacing():
    """Statements typed as plain paragraphs (no bullet) that wrap to the
    cell's edge: LibreOffice's PDF of the Ille-et-Vilaine DOCX so changed
    (tests/make_ocr_fixtures.py) sets nothing between them but the
    paragraphs' 1 pt spacing after. Each is a statement, as in the DOCX."""
    pdf = FIXTURES / "generated" / "ille-et-vilaine_plain.pdf"
    result = process_file(pdf, pdf.parent)
    scores = match_items(result, truth_of("EGNum_Ille_et_vilaine_synthese_def.docx"))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]


def test_a_page_break_between_two_plain_paragraphs_of_a_cell_parts_them():
    """The Ain DOCX with plain-paragraph statements (tests/make_ocr_fixtures.py):
    a page break falls between two of a plan d'action cell, "… avec le
    numérique" at the foot of one page, "Installation du wifi …" at the top
    of the next, and the spacing that parts them on a page is lost there.
    A capital after a line that could end a sentence opens the next one."""
    pdf = FIXTURES / "generated" / "ain_plain.pdf"
    result = process_file(pdf, pdf.parent)
    scores = match_items(result, truth_of("01_restitution_etats_generaux_numerique_VF.docx"))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]


def test_a_line_whose_font_size_the_pdf_rounds_otherwise_keeps_its_paragraph_spacing():
    """The Puy-de-Dôme DOCX with plain-paragraph statements
    (tests/make_ocr_fixtures.py): LibreOffice's PDF sets one line of a cell
    at size 7.999999999999972, the others at 8. It is one size: the 1 pt
    spacing after that line parts its statement from the next."""
    pdf = FIXTURES / "generated" / "puy-de-dome_plain.pdf"
    result = process_file(pdf, pdf.parent)
    scores = match_items(result, truth_of("Trame de restitution EGN 63_def.docx"))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]


def test_a_list_mark_alone_at_a_page_foot_opens_the_statement_the_next_page_holds():
    """The Hérault DOCX with lettered statements (tests/make_ocr_fixtures.py):
    LibreOffice's PDF leaves "c." alone at the foot of a page and its text
    at the top of the next. The mark opens a statement of its own, not the
    end of the one above; "2020-|2021", cut at its hyphen, is one range."""
    pdf = FIXTURES / "generated" / "herault_letters.pdf"
    result = process_file(pdf, pdf.parent)
    truth = truth_of("restitution-egn-herault.docx")
    assert sorted(item.text for item in result.items) == sorted(item["text"] for item in truth["items"])


@pytest.mark.parametrize("name, source", [
    ("ain_plain_tables.pdf", "01_restitution_etats_generaux_numerique_VF.docx"),
    ("ardennes_plain_tables.pdf", "Trame_restitution_EGN_DSDEN08.docx"),
])
def test_statements_of_tables_drawn_with_nothing_read_as_their_document_writes_them(name, source):
    """LibreOffice's PDFs of two DOCX with nothing drawn (tests/make_ocr_fixtures.py):
    the columns' right limits are guessed from the text, so a line ending on
    "du" or "des" may seem to have room for "CNED" or "ERUN" (it goes on: no
    sentence ends there), a ")" sits alone on a line (it goes on too), and a
    word cut at the last column's edge ("Fréquentatio|n") is told by how far
    that column's widest line reaches."""
    pdf = FIXTURES / "generated" / name
    result = process_file(pdf, pdf.parent)
    assert sorted(item.text for item in result.items) == sorted(item["text"] for item in truth_of(source)["items"])


@pytest.mark.parametrize("line, open_", [
    ("l'évaluation par compétences avec le", True), ("un accompagnement de l'", True),
    ("des tablettes, des ordinateurs,", True), ("Des parents mis en difficulté pour", True),
    ("les apprentissages à la maison", False), ("avec le numérique", False),
])
def test_a_line_ending_on_an_article_or_preposition_has_not_ended_its_sentence(line, open_):
    # `mots_de_liaison.txt` keeps "avec le | Département" whole across a page break.
    from pipeline.ingest.readers.lexicon import ends_mid_sentence

    assert ends_mid_sentence(line) is open_


def test_the_rest_of_a_header_row_a_page_break_cut_gives_no_statement():
    """LibreOffice's PDF of the Ille-et-Vilaine DOCX with typed "- "
    statements (tests/make_ocr_fixtures.py) starts its plan d'action at the
    foot of a page: the page break cuts the header row, whose rest
    ("(parmi les 5) | principaux (Quoi) | (Comment) …") opens the next page.
    It is the header's, not a row of statements nor an action."""
    pdf = FIXTURES / "generated" / "ille-et-vilaine_dashes.pdf"
    result = process_file(pdf, pdf.parent)
    truth = truth_of("EGNum_Ille_et_vilaine_synthese_def.docx")
    assert sorted(item.text for item in result.items) == sorted(item["text"] for item in truth["items"])
    assert len(result.restitution.actions) == len(truth["actions"])


@pytest.mark.parametrize("name", ["ille-et-vilaine_theme_banners.pdf", "ille-et-vilaine_theme_headings.pdf"])
def test_pdf_data_tables_without_a_theme_column_take_the_theme_written_around_them(name):
    """LibreOffice's PDFs of the Ille-et-Vilaine DOCX whose data tables lost
    their theme column, each theme written in a banner row above its rows
    or in a paragraph above a table of its own (tests/make_ocr_fixtures.py),
    tables cut by page breaks: every statement under its theme."""
    pdf = FIXTURES / "generated" / name
    result = process_file(pdf, pdf.parent)
    truth = truth_of("EGNum_Ille_et_vilaine_synthese_def.docx")
    assert result.status == "ok", result.message
    scores = match_items(result, truth)
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]
    assert [a.theme for a in result.restitution.actions] == [a["theme"] for a in truth["actions"]]


@pytest.mark.parametrize(("name", "source"), [
    ("ille-et-vilaine_no_borders.pdf", "EGNum_Ille_et_vilaine_synthese_def.docx"),
    ("ille-et-vilaine_plain_tables.pdf", "EGNum_Ille_et_vilaine_synthese_def.docx"),
    ("ain_horizontal_rules.pdf", "01_restitution_etats_generaux_numerique_VF.docx"),
    ("bouches-du-rhone_banded.pdf", "EGNum_Bouches_du_rhone_synthese_def.docx"),
])
def test_pdf_tables_drawn_without_vertical_rules_are_read(name, source):
    """LibreOffice's PDFs of corpus DOCX whose tables were drawn without
    borders, with nothing drawn at all, with rules between rows only, or
    banded (every other row shaded; tests/make_ocr_fixtures.py):
    pdfplumber finds their shaded header rows alone, the shaded rows, or
    nothing; the columns are rebuilt from the headers (the header row's
    box, or the header line's words), across page breaks, and every
    statement is read under its theme, none of the page's other text.
    The introduction table, drawn the same way, is rebuilt below its
    first row (the region): a count column its first line does not show,
    the date and place over two columns, a row per check box."""
    pdf = FIXTURES / "generated" / name
    result = process_file(pdf, pdf.parent)
    truth = truth_of(source)
    assert result.status == "ok", result.message
    scores = match_items(result, truth)
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]
    assert sorted(item.text for item in result.items) == sorted(item["text"] for item in truth["items"])
    assert [a.theme for a in result.restitution.actions] == [a["theme"] for a in truth["actions"]]
    meta, expected = result.restitution.meta, truth["document"]
    assert (meta.session_date, meta.session_place, meta.session_format) == (
        expected["session_date"], expected["session_place"], expected["session_format"])
    got = [(p.category, p.checked, p.count) for p in result.restitution.participants]
    assert got == [(p["category"], p["checked"], p["count"]) for p in truth["participants"]]
