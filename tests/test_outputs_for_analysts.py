"""The outputs as analysts and programs read them, from one real run.

The run reads real restitutions (Ain "01" in Word, Aisne "02" in
OpenDocument, Sarthe in PDF, a password-protected PDF that is quarantined)
and a Corse-du-Sud ("2A") restitution written with python-docx, then the
tests open what it published: the workbook with openpyxl (French sheets
and headers, labels beside codes, Paris times, percentages, wrapped texts,
the « Codes et libellés » sheet, title and author), the CSV files with the
data dictionary's own pandas and DuckDB code, and egn.duckdb with its
label tables and views.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import openpyxl
import pytest
from conftest import CORPUS
from make_docx import restitution

from assets.cli import materialize_all
from assets.resources import resources
from pipeline.labels import SHEET_NAMES, WORKBOOK_PROPERTIES, actor_labels, category_labels, code_lists, column_label
from pipeline.publish.dictionary import TARGET as DICTIONARY
from pipeline.publish.workbook import CODES_SHEET, LISTS_SHEET, REVIEW_SHEET, SUMMARY_SHEET
from pipeline.tables.column_labels import sheet_columns
from pipeline.tables.schemas import COLUMN_TYPES, COLUMNS, SCHEMAS, TEXT_TYPE

FILES = ["01_restitution_etats_generaux_numerique_VF.docx", "Trame_restitution_EGN_02.odt", "sarthe-72.pdf",
         "restitution_EGN_05_protege.pdf"]
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("analysts")
    raw, folder = base / "raw", base / "outputs"
    raw.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, raw / name)
    restitution(raw / "corse-du-sud.docx", title="DSDEN de la Corse-du-Sud",
                date_place="Mardi 10 novembre 2020 – Lycée Fesch – Ajaccio (2A)")
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(resources(str(raw), str(folder), str(base / "cache")), instance).success
    return folder


@pytest.fixture(scope="module")
def workbook(outputs):
    return openpyxl.load_workbook(outputs / "synthese.xlsx")


def _csv(outputs, table: str) -> list[dict]:
    with (outputs / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _columns(sheet) -> dict[str, list]:
    """A sheet's cells by French header."""
    rows = list(sheet.iter_rows())
    return {header.value: [row[index] for row in rows[1:]] for index, header in enumerate(rows[0])}


# --------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------


def test_sheets_and_headers_are_french_and_filter_every_row(workbook):
    tables = [name for name in COLUMNS if name not in ("review_queue", "recurring_statements")]
    assert workbook.sheetnames == [REVIEW_SHEET, SUMMARY_SHEET, *(SHEET_NAMES[name] for name in tables),
                                   SHEET_NAMES["recurring_statements"], CODES_SHEET, LISTS_SHEET]
    assert {"Documents", "Énoncés", "Actions", "Participants", "Quarantaine", "Énoncés récurrents",
            "Codes et libellés"} <= set(workbook.sheetnames)
    for table in COLUMNS:
        sheet = workbook[SHEET_NAMES[table]]
        header = [cell.value for cell in sheet[1]]
        assert header == [column.header for column in sheet_columns(table)], table
        assert len(set(header)) == len(header), table
        # No contract code as a header: French words, not snake_case.
        assert not [title for title in header if re.search(r"_|^[a-z]", title)], table
        last = openpyxl.utils.get_column_letter(len(header))
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", table
        assert sheet.freeze_panes == "A2", table
    statements = [cell.value for cell in workbook[SHEET_NAMES["items"]][1]]
    assert statements[:3] == ["Identifiant de l'énoncé", "Identifiant du document", "Code du département"]
    assert statements[statements.index("Thème (code)") + 1] == "Thème"


def test_label_columns_stand_beside_code_columns(outputs, workbook):
    items = _columns(workbook[SHEET_NAMES["items"]])
    categories = category_labels()
    pairs = list(zip(items["Catégorie principale (code)"], items["Catégorie principale"]))
    assert {code.value for code, _ in pairs} >= {"formation", "equipement"}
    for code, text in pairs:
        assert text.value == (categories[code.value] if code.value else None)
    for codes, texts in zip(items["Catégories (code)"], items["Catégories"]):
        if codes.value:
            assert texts.value == " | ".join(categories[code] for code in codes.value.split(" | "))
    themes, roles = code_lists()["themes"].labels, code_lists()["roles"].labels
    assert all(text.value == themes[code.value] for code, text in zip(items["Thème (code)"], items["Thème"]))
    assert all(text.value == roles[code.value] for code, text in zip(items["Rôle (code)"], items["Rôle"]))
    assert "Point fort" in {cell.value for cell in items["Rôle"]}

    actions = _columns(workbook[SHEET_NAMES["actions"]])
    actors = actor_labels()
    listed = [(codes.value, texts.value) for codes, texts in zip(actions["Acteurs (code)"], actions["Acteurs"])
              if codes.value]
    assert listed and all(texts == " | ".join(actors[code] for code in codes.split(" | ")) for codes, texts in listed)

    documents = _columns(workbook[SHEET_NAMES["documents"]])
    shown = {(code.value, reason.value): (text.value, reason_text.value) for code, text, reason, reason_text in
             zip(documents["Statut (code)"], documents["Statut"], documents["Raison (code)"], documents["Raison"])}
    assert shown[("ok", None)] == ("Intégré", None)
    assert shown[("rejected", "encrypted")] == ("Rejeté", "PDF protégé par mot de passe")
    # The rows are the CSV's rows, codes untouched.
    assert [cell.value for cell in documents["Statut (code)"]] == [row["status"] for row in _csv(outputs, "documents")]


def test_departement_codes_are_text_cells(workbook):
    codes = {cell.value for cell in _columns(workbook[SHEET_NAMES["documents"]])["Code du département"]}
    assert {"01", "02", "72", "2A"} <= codes


def test_dates_and_times_are_excel_dates_in_paris_time(outputs, workbook):
    documents = _columns(workbook[SHEET_NAMES["documents"]])
    rows = _csv(outputs, "documents")
    for cell, row in zip(documents["Première lecture"], rows):
        utc = datetime.fromisoformat(row["ingested_at"].replace("Z", "+00:00"))
        assert isinstance(cell.value, datetime) and cell.is_date
        assert cell.value == utc.astimezone(PARIS).replace(tzinfo=None)
        assert cell.value != utc.replace(tzinfo=None)  # Paris is one or two hours ahead of UTC
        assert cell.number_format == "dd/mm/yyyy hh:mm"
    sessions = [(cell, row) for cell, row in zip(documents["Date de la session"], rows) if row["session_date"]]
    assert {row["departement_code"] for _, row in sessions} >= {"01", "2A"}
    for cell, row in sessions:
        assert cell.is_date and cell.value == datetime.fromisoformat(row["session_date"])
        assert cell.number_format == "dd/mm/yyyy"
    quarantine = _columns(workbook[SHEET_NAMES["quarantine"]])
    detected = quarantine["Première lecture"]
    assert detected and all(cell.is_date and cell.number_format == "dd/mm/yyyy hh:mm" for cell in detected)


def test_shares_and_confidences_are_percentages(outputs, workbook):
    shares = _columns(workbook[SHEET_NAMES["category_summary"]])["Part des départements"]
    expected = [float(row["share_departements"]) for row in _csv(outputs, "category_summary")]
    assert [cell.value for cell in shares] == expected
    assert all(0 < cell.value <= 1 and cell.number_format == "0.0%" for cell in shares)
    assert any(cell.value < 1 for cell in shares)  # 0.25 shows as « 25,0 % »
    scores = [cell for cell in _columns(workbook[SHEET_NAMES["items"]])["Confiance de la catégorie"] if cell.value]
    assert scores and all(isinstance(cell.value, (int, float)) and cell.number_format == "0.0%" for cell in scores)


def test_long_texts_wrap(workbook):
    texts = _columns(workbook[SHEET_NAMES["items"]])["Énoncé"]
    assert max(len(cell.value) for cell in texts) > 70
    assert all(cell.alignment.wrap_text for cell in texts)
    messages = _columns(workbook[SHEET_NAMES["documents"]])["Message"]
    assert all(cell.alignment.wrap_text for cell in messages)
    assert not any(cell.alignment.wrap_text for cell in _columns(workbook[SHEET_NAMES["items"]])["Page"])


def test_codes_and_labels_sheet_maps_headers_and_codes(workbook):
    sheet = workbook[CODES_SHEET]
    assert [cell.value for cell in sheet[1]] == ["Type", "Feuille ou liste", "Code", "Libellé", "Description"]
    assert sheet.auto_filter.ref == f"A1:E{sheet.max_row}"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    columns = {(where, code): (text, description) for kind, where, code, text, description in rows
               if kind == "Colonne" and code}
    assert columns[("Énoncés", "category")] == ("Catégorie principale (code)",
                                                SCHEMAS["items"].columns["category"].description)
    assert columns[("Documents", "departement_code")][0] == "Code du département"
    for table in COLUMNS:  # every CSV column is found from its sheet's header
        for column in COLUMNS[table]:
            assert (SHEET_NAMES[table], column) in columns, (table, column)
    codes = {(where, code): text for kind, where, code, text, _ in rows if kind == "Code"}
    assert codes[("Catégories d'énoncés", "formation")] == category_labels()["formation"]
    assert codes[("Thèmes", "acces")] == "Égal accès"
    assert codes[("Statuts des fichiers", "rejected")] == "Rejeté"
    assert codes[(code_lists()["raisons"].title, "no_text_layer")] == "PDF sans texte (numérisé)"
    assert codes[("Rôles des énoncés", "point_fort")] == "Point fort"
    definitions = {code: description for kind, where, code, _, description in rows
                   if kind == "Code" and where == "Catégories d'énoncés"}
    assert all(definitions[code] for code in category_labels())


def test_workbook_has_a_title_and_an_author(workbook):
    properties = workbook.properties
    assert properties.title == WORKBOOK_PROPERTIES["titre"]
    assert "États généraux du numérique pour l'éducation" in properties.title
    assert properties.creator.startswith("Ministère de l'Éducation nationale")
    assert properties.language == "fr-FR"


# --------------------------------------------------------------------------
# CSV files read with the data dictionary's code
# --------------------------------------------------------------------------


def _snippet(language: str, outputs) -> str:
    """The data dictionary's code block in `language`, reading the files of `outputs`."""
    text = DICTIONARY.read_text(encoding="utf-8")
    block = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL).group(1)
    return block.replace("outputs/", f"{outputs}/")


def test_pandas_snippet_keeps_departement_codes_as_text(outputs):
    scope: dict = {}
    exec(_snippet("python", outputs), scope)  # noqa: S102 — the documented code itself
    documents, items = scope["documents"], scope["items"]
    assert {"01", "02", "72", "2A"} <= set(documents["departement_code"].dropna())
    assert documents["departement_code"].dtype == "string"
    assert str(documents["ingested_at"].dt.tz) == "UTC" and documents["session_date"].notna().any()
    assert items["document_id"].dtype == "string" and "01" in set(items["departement_code"])
    assert items["needs_review"].dtype == "boolean" and items["page"].dtype == "Int64"
    # Every file reads with the same types (pandas leaves a file without rows untyped).
    for table in COLUMNS:
        frame = scope["lire"](table)
        assert list(frame.columns) == COLUMNS[table]
        for column in frame.columns if len(frame) else []:
            if COLUMN_TYPES.get(column, TEXT_TYPE) == TEXT_TYPE:
                assert frame[column].dtype == "string", (table, column)


def test_duckdb_snippet_reads_the_tables_of_the_duckdb_file(outputs):
    with duckdb.connect() as fresh, duckdb.connect(str(outputs / "egn.duckdb"), read_only=True) as published:
        fresh.execute(_snippet("sql", outputs))
        for table in COLUMNS:
            described = fresh.execute(f'DESCRIBE "{table}"').fetchall()
            assert described == published.execute(f'DESCRIBE "{table}"').fetchall(), table
            assert fresh.execute(f'SELECT * FROM "{table}"').fetchall() == \
                published.execute(f'SELECT * FROM "{table}"').fetchall(), table


def test_duckdb_file_has_text_codes_real_types_and_labels(outputs):
    with duckdb.connect(str(outputs / "egn.duckdb"), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'documents'").fetchall())
        assert types["departement_code"] == "VARCHAR" and types["session_date"] == "DATE"
        assert types["ingested_at"] == "TIMESTAMP WITH TIME ZONE" and types["is_current"] == "BOOLEAN"
        codes = {row[0] for row in con.execute("SELECT departement_code FROM documents").fetchall()}
        assert {"01", "02", "72", "2A"} <= codes
        for table in COLUMNS:
            kinds = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                     f"WHERE table_name = '{table}'").fetchall())
            if "departement_code" in kinds:
                assert kinds["departement_code"] == "VARCHAR", table

        categories = dict(con.execute("SELECT code, libelle FROM libelles_categories").fetchall())
        assert categories == category_labels()
        for name, codes_list in code_lists().items():
            assert dict(con.execute(f"SELECT code, libelle FROM libelles_{name}").fetchall()) == codes_list.labels

        labelled = con.execute("SELECT item_id, category, category_libelle, categories, categories_libelle, "
                               "theme_libelle, role_libelle FROM items_libelles").fetchall()
        assert [row[0] for row in labelled] == [row["item_id"] for row in _csv(outputs, "items")]
        themes, roles = code_lists()["themes"].labels, code_lists()["roles"].labels
        for _, category, category_label, categories, categories_label, theme_label, role_label in labelled:
            assert category_label == (category_labels()[category] if category else None)
            if categories:
                assert categories_label == " | ".join(category_labels()[code] for code in categories.split(" | "))
            assert theme_label in themes.values() and role_label in roles.values()
        rejected = con.execute("SELECT status_libelle, reason_libelle FROM documents_libelles "
                               "WHERE status = 'rejected'").fetchall()
        assert rejected == [("Rejeté", "PDF protégé par mot de passe")]

        described = {(table, column): (text, kind) for table, column, text, kind, _ in
                     con.execute("SELECT * FROM libelles_colonnes").fetchall()}
        assert described[("items", "category")] == (column_label("items", "category"), "VARCHAR")
        assert described[("documents", "ingested_at")] == ("Première lecture", "TIMESTAMPTZ")
        assert len(described) == sum(len(columns) for columns in COLUMNS.values())
