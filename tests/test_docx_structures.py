"""What Word files do beyond the corpus: merged cells, nested tables,
content controls. Each test builds a real DOCX and reads it back."""

from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS, truth_of
from make_docx import (
    drop_theme_column,
    duplicate_row,
    merge_theme_cells,
    nest_table_in_cell,
    non_breaking_hyphens,
    restitution,
    statements_on_soft_breaks,
    theme_banner_rows,
    theme_column_as_banners,
    theme_column_as_headings,
    track_move_last_paragraph_up,
    two_row_header,
    wrap_table_in_content_control,
)
from support import match_items

from pipeline.ingest.process import process_file


def _items(path, section, role):
    result = process_file(path, path.parent)
    return result, [i for i in result.items if i.section == section and i.role == role]


def test_generated_restitution_reads_completely(tmp_path):
    result = process_file(restitution(tmp_path / "r.docx"), tmp_path)
    assert result.status == "ok", result.message
    meta = result.restitution.meta
    assert (meta.departement_code, meta.academie, meta.session_date, meta.session_format) == (
        "53", "Nantes", "2020-11-12", "distanciel")
    assert meta.session_place == "Lycée Douanier Rousseau – Laval (53)"
    counts = {p.category: (p.checked, p.count) for p in result.restitution.participants}
    assert counts["premier_degre"] == (True, 14)
    assert counts["usagers"] == (True, 2)
    assert counts["chercheurs"] == (False, None)  # "à compléter" is unknown, not 0
    action = result.restitution.actions[0]
    assert (action.theme, action.acteurs, action.temporalite) == ("travailler_ensemble", ["rectorat", "canope"], "court")


def test_vertically_merged_theme_cell_gives_its_theme_to_each_row_once(tmp_path):
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", "", ["Zones blanches"], ["Prêts de tablettes"]],
        ["", "", ["Pas d'imprimante à la maison"], ["Aide du Département"]],
    ])
    merge_theme_cells(path, table_index=1, first_row=1, last_row=2)
    _, irritants = _items(path, "diagnostic", "irritant")
    assert [(i.text, i.theme) for i in irritants] == [
        ("Zones blanches", "acces"), ("Pas d'imprimante à la maison", "acces")]


def test_horizontally_merged_cells_are_not_duplicated(tmp_path):
    # The intro table of the template spans its answers over two columns (gridSpan).
    path = restitution(tmp_path / "r.docx")
    import docx
    document = docx.Document(path)
    table = document.tables[0]
    table.cell(1, 1).merge(table.cell(1, 2))
    document.save(path)
    result = process_file(path, tmp_path)
    assert result.restitution.meta.session_place == "Lycée Douanier Rousseau – Laval (53)"


def test_table_inside_a_content_control_is_read(tmp_path):
    path = restitution(tmp_path / "r.docx")
    wrap_table_in_content_control(path, table_index=1)  # the diagnostic table
    result, irritants = _items(path, "diagnostic", "irritant")
    assert [i.text for i in irritants] == ["Zones blanches en milieu rural", "Manque de vidéoprojecteurs"]
    assert result.status == "ok"


def test_checkbox_content_controls_give_the_session_format(tmp_path):
    path = restitution(tmp_path / "r.docx", checkbox_controls=True)
    result = process_file(path, tmp_path)
    assert result.restitution.meta.session_format == "distanciel"


def test_nested_table_cells_become_statements(tmp_path):
    path = restitution(tmp_path / "r.docx")
    nest_table_in_cell(path, table_index=1, row=1, col=2, texts=["Débit insuffisant", "Pas de wifi au collège"])
    _, irritants = _items(path, "diagnostic", "irritant")
    assert [i.text for i in irritants][:2] == ["Débit insuffisant", "Pas de wifi au collège"]


def test_reordered_columns_keep_their_roles(tmp_path):
    import docx
    path = restitution(tmp_path / "r.docx")
    document = docx.Document(path)
    table = document.tables[1]
    for row in table.rows:  # swap "Irritants" and "Points forts"
        a, b = row.cells[2], row.cells[3]
        a_text = [p.text for p in a.paragraphs]
        b_text = [p.text for p in b.paragraphs]
        for cell, texts in ((a, b_text), (b, a_text)):
            cell.paragraphs[0].text = texts[0]
            for paragraph in cell.paragraphs[1:]:
                paragraph._p.getparent().remove(paragraph._p)
    document.save(path)
    _, points_forts = _items(path, "diagnostic", "point_fort")
    assert "Zones blanches en milieu rural" not in [i.text for i in points_forts]
    assert "Mobilisation des communes" in [i.text for i in points_forts]


def test_duplicated_header_row_inside_a_table_gives_no_items(tmp_path):
    path = restitution(tmp_path / "r.docx")
    duplicate_row(path, table_index=1, row=0)
    _, irritants = _items(path, "diagnostic", "irritant")
    assert "Irritants" not in [i.text for i in irritants]
    assert len(irritants) == 2


def test_missing_sections_make_a_partial_restitution(tmp_path):
    result = process_file(restitution(tmp_path / "r.docx", projection=False, plan=False), tmp_path)
    assert (result.status, result.reason) == ("partial", "missing_sections")
    assert "Plan d'action" in result.message
    assert result.items  # what was found is kept


def test_unresolvable_theme_is_unknown_and_quarantined(tmp_path):
    from pipeline.tables.rows import quarantine_rows

    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Divers", "", ["Des salles sans prises électriques"], ["Entraide entre collègues"]],
        ["Un égal accès au numérique pour tous", "", ["Zones blanches"], ["Prêts"]],
    ])
    result = process_file(path, tmp_path)
    unknown = [i for i in result.items if i.theme == "inconnu"]
    assert {i.text for i in unknown} == {"Des salles sans prises électriques", "Entraide entre collègues"}
    rows = quarantine_rows(result, "2020-11-30T00:00:00Z")
    assert [r["reason"] for r in rows] == ["unknown_theme", "unknown_theme"]
    assert all("« Divers »" in r["message"] for r in rows)


def test_retex_whose_title_follows_its_theme_line_is_read(tmp_path):
    # "RETEX 1 –", "Thématique : …" and the title as lines of one paragraph
    # (soft line breaks): the title is the item, the file is not lost.
    path = restitution(tmp_path / "r.docx")
    import docx
    document = docx.Document(path)
    retex = document.paragraphs[1].insert_paragraph_before("RETEX 1 –")
    retex.add_run().add_break()
    retex.add_run("Thématique : Un égal accès au numérique pour tous")
    retex.add_run().add_break()
    retex.add_run("Prêt de clés 4G aux familles sans connexion")
    document.save(path)
    result, retex_items = _items(path, "retex", "retex")
    assert result.status == "ok", result.message
    assert [(i.text, i.theme) for i in retex_items] == [("Prêt de clés 4G aux familles sans connexion", "acces")]


def test_tracked_move_reads_the_moved_text_once(tmp_path):
    # Track changes on, a statement dragged to the top of its cell: Word
    # keeps it at its old place in w:moveFrom until the move is accepted.
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", "", ["Zones blanches", "Pas d'imprimante à la maison"],
         ["Prêts de tablettes"]],
    ])
    track_move_last_paragraph_up(path, table_index=1, row=1, col=2)
    _, irritants = _items(path, "diagnostic", "irritant")
    assert [i.text for i in irritants] == ["Pas d'imprimante à la maison", "Zones blanches"]


def test_non_breaking_hyphens_are_hyphens(tmp_path):
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", "", ["Peu de tiers-lieux en milieu rural"], ["Prêts de tablettes"]],
    ])
    non_breaking_hyphens(path, table_index=1)
    _, irritants = _items(path, "diagnostic", "irritant")
    assert [i.text for i in irritants] == ["Peu de tiers-lieux en milieu rural"]


def test_lettered_statements_lose_their_letters(tmp_path):
    # Statements typed as a lettered list ("a.", "b)"), one paragraph each:
    # the letters are numbering, not text.
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", "", ["a. Zones blanches", "b. Pas d'imprimante à la maison"],
         ["a) Prêts de tablettes", "b) Aide du Département"]],
    ])
    _, irritants = _items(path, "diagnostic", "irritant")
    _, points_forts = _items(path, "diagnostic", "point_fort")
    assert [i.text for i in irritants] == ["Zones blanches", "Pas d'imprimante à la maison"]
    assert [i.text for i in points_forts] == ["Prêts de tablettes", "Aide du Département"]


def test_theme_in_a_merged_banner_row_is_the_theme_of_the_rows_below(tmp_path):
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", "", ["Zones blanches"], ["Prêts de tablettes"]],
        ["", "", ["Pas d'imprimante à la maison"], ["Aide du Département"]],
        ["Enseigner et apprendre avec le numérique", "", ["Manque de vidéoprojecteurs"], ["Classes virtuelles"]],
    ])
    theme_banner_rows(path, table_index=1)
    result, irritants = _items(path, "diagnostic", "irritant")
    assert [(i.text, i.theme) for i in irritants] == [
        ("Zones blanches", "acces"), ("Pas d'imprimante à la maison", "acces"),
        ("Manque de vidéoprojecteurs", "enseigner_apprendre")]
    assert result.status == "ok"


def test_header_of_two_rows_with_the_theme_header_merged_down(tmp_path):
    path = restitution(tmp_path / "r.docx")
    two_row_header(path, table_index=3, title="Plan d'action")
    result = process_file(path, tmp_path)
    assert result.status == "ok", result.message
    action = result.restitution.actions[0]
    assert (action.theme, action.quoi, action.acteurs) == (
        "travailler_ensemble", ["Former les équipes"], ["rectorat", "canope"])
    assert "Plan d'action" not in [i.text for i in result.items]


@pytest.mark.parametrize("write_themes", [theme_column_as_banners, theme_column_as_headings])
def test_data_tables_without_a_theme_column_take_the_theme_written_around_them(tmp_path, write_themes):
    """The Ille-et-Vilaine restitution with no theme column in its data
    tables, each theme written instead in a merged banner row above its
    rows, or in a paragraph above a table of its own: every statement is
    read, under its theme, and no banner or heading is a statement."""
    name = "EGNum_Ille_et_vilaine_synthese_def.docx"
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    write_themes(path)
    result = process_file(path, tmp_path)
    truth = truth_of(name)
    assert result.status == "ok", result.message
    scores = match_items(result, truth)
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]
    assert [a.theme for a in result.restitution.actions] == [a["theme"] for a in truth["actions"]]


def test_a_table_without_a_theme_column_or_a_theme_around_it_keeps_its_rows(tmp_path):
    """With no theme written anywhere, the rows are read all the same, of
    an unknown theme (the pipeline quarantines them); a row holding only a
    RETEX title is a statement, not a banner."""
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[
        ["Un égal accès au numérique pour tous", ["Prêt de tablettes"], ["Zones blanches"], ["Aide du Département"]],
        ["", ["Classes virtuelles au collège"], "", ""],
    ])
    drop_theme_column(path)
    result = process_file(path, tmp_path)
    assert result.status == "ok", result.message
    diagnostic = [(i.role, i.text, i.theme) for i in result.items if i.section == "diagnostic"]
    assert diagnostic == [
        ("retex", "Prêt de tablettes", "inconnu"), ("irritant", "Zones blanches", "inconnu"),
        ("point_fort", "Aide du Département", "inconnu"), ("retex", "Classes virtuelles au collège", "inconnu")]
    assert len(result.restitution.actions) == 1


@pytest.mark.parametrize("name", ["EGNum_Ille_et_vilaine_synthese_def.docx", "01_restitution_etats_generaux_numerique_VF.docx"])
def test_statements_set_one_a_line_with_soft_breaks_are_read_apart(tmp_path, name):
    """A restitution whose cells hold their statements as one plain
    paragraph, a line each (Shift+Enter between them, no bullet): every
    statement is read on its own, as in the original."""
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    statements_on_soft_breaks(path)
    result = process_file(path, tmp_path)
    assert result.status == "ok", result.message
    scores = match_items(result, truth_of(name))
    assert (scores["f1"], scores["theme_acc"]) == (1.0, 1.0), scores["missed"]


def test_a_soft_break_goes_on_with_a_sentence_in_lower_case_or_a_list_item(tmp_path):
    """A line after a soft break opens a statement only with a capital and
    outside a list: a sentence cut before a word in lower case goes on, so
    does one cut after a word no sentence ends on ("avec la⏎DANE"), and
    so does a bullet continued on a new line (Word's own use of
    Shift+Enter in a list)."""
    path = restitution(tmp_path / "r.docx", diagnostic_rows=[[
        "Un égal accès au numérique pour tous",
        "Prêt de tablettes aux familles\nDes zones blanches en\nmilieu rural\nUn travail avec la\nDANE",
        ["Une charte des usages numériques\nRédigée avec les équipes"],
        "Aide du Département",
    ]])
    result = process_file(path, tmp_path)
    diagnostic = [(i.role, i.text) for i in result.items if i.section == "diagnostic"]
    assert diagnostic == [
        ("retex", "Prêt de tablettes aux familles"), ("retex", "Des zones blanches en milieu rural"),
        ("retex", "Un travail avec la DANE"), ("irritant", "Une charte des usages numériques Rédigée avec les équipes"),
        ("point_fort", "Aide du Département")]
