"""Analysts' review and corrections (contract v1.1), on real documents.

One module-scoped run over two restitutions gives the review queue; the
tests then drop corrections files (CSV, Excel's `;` CSV with a BOM, the
workbook's « À vérifier » sheet filled in) into the corrections folder,
run the same assets again and read the contract's files. The last test
re-sends a file (new bytes, so new item ids) and checks that the
corrections follow their statements by text.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from conftest import CORPUS
from openpyxl.utils import get_column_letter

from assets.automation import corrections_sensor
from assets.cli import main as egn
from assets.cli import materialize_all
from assets.resources import CorrectionsFolder, OutputsFolder, resources
from pipeline.contract import CATEGORIES, KNOWN_THEME_CODES
from pipeline.labels import SHEET_NAMES, category_labels, column_label
from pipeline.publish.workbook import LISTS_SHEET, REVIEW_SHEET
from pipeline.tables.aggregate import MATRIX_ROLES
from pipeline.tables.column_labels import sheet_columns
from pipeline.tables.corrections import CHOICE_SEPARATOR, parse_code
from pipeline.tables.review import MIN_ERROR, Signals
from pipeline.tables.schemas import COLUMNS

FILES = ["sarthe-72.docx", "EGNum_Ille_et_vilaine_synthese_def.docx"]
SARTHE = "sarthe-72.docx"


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_csv(path: Path, rows: list[dict], delimiter: str = ",", bom: bool = False) -> None:
    buffer = io.StringIO()
    header = list(dict.fromkeys(column for row in rows for column in row))
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))


def _other(value: str, choices: list[str]) -> str:
    return next(choice for choice in choices if choice != value)


def _run(chosen) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_all(chosen, instance)
    assert result.success
    return result


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The first run (no corrections yet), then a run with three corrections files."""
    base = tmp_path_factory.mktemp("corrections")
    raw, outputs, corrections = base / "raw", base / "outputs", base / "corrections"
    raw.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, raw / name)
    chosen = resources(str(raw), str(outputs), str(base / "cache"))
    assert chosen["corrections_folder"].root == corrections.resolve()  # beside raw/ by default
    _run(chosen)
    before = {name: _read(outputs / f"{name}.csv") for name in COLUMNS}
    queue = before["review_queue"]
    # Statements of Sarthe (re-sent in the last test) whose role the matrix counts.
    picks = [row for row in queue if row["source_file"] == SARTHE and row["role"] in MATRIX_ROLES][:7]
    assert len(picks) == 7
    first, listed, moved, unknown, excluded, labelled, role_changed = picks
    labels = category_labels()

    corrections.mkdir()
    # A: the contract's own CSV conventions, bare item ids (no text to re-attach by).
    a = corrections / "a_premiere_relecture.csv"
    _write_csv(a, [
        {"item_id": first["item_id"], "category_corrected": _other(first["category"], CATEGORIES), "comment": ""},
        {"item_id": listed["item_id"], "categories_corrected": "formation | equipement", "comment": "deux sujets"},
        {"item_id": moved["item_id"], "theme_corrected": _other(moved["theme"], KNOWN_THEME_CODES), "comment": ""},
        {"item_id": unknown["item_id"], "category_corrected": "informatique", "comment": "code inventé"},
        {"item_id": "0000000000000000", "category_corrected": "formation", "comment": "énoncé inexistant"},
    ])
    # B: as Excel saves a CSV: `;` and a BOM; a label with its code, as the drop-down lists write it.
    b = corrections / "b_excel.csv"
    _write_csv(b, [
        {"item_id": excluded["item_id"], "exclude": "oui", "category_corrected": ""},
        {"item_id": labelled["item_id"], "exclude": "",
         "category_corrected": f"pedagogie{CHOICE_SEPARATOR}{labels['pedagogie']}"},
    ], delimiter=";", bom=True)
    # C: the workbook itself, its « À vérifier » sheet filled in (newer than A: it wins for `first`).
    c = corrections / "c_synthese.xlsx"
    workbook = openpyxl.load_workbook(outputs / "synthese.xlsx")
    sheet = workbook[REVIEW_SHEET]
    header = [cell.value for cell in sheet[1]]
    rows = {sheet.cell(row=r, column=2).value: r for r in range(2, sheet.max_row + 1)}
    target_role = "besoin" if role_changed["role"] != "besoin" else "levier"
    winner = _other(first["category"], list(reversed(CATEGORIES)))
    # The analyst fills in the columns under their French headers.
    sheet.cell(row=rows[first["item_id"]], column=header.index("Catégorie corrigée") + 1,
               value=f"{winner}{CHOICE_SEPARATOR}{labels[winner]}")
    sheet.cell(row=rows[role_changed["item_id"]], column=header.index("Rôle corrigé") + 1,
               value=f"{target_role}{CHOICE_SEPARATOR}Besoin")
    workbook.save(c)
    for index, path in enumerate((a, b, c)):
        os.utime(path, ns=(10**18 + index * 10**9,) * 2)

    result = _run(chosen)
    after = {name: _read(outputs / f"{name}.csv") for name in COLUMNS}
    return {"chosen": chosen, "raw": raw, "outputs": outputs, "corrections": corrections, "before": before,
            "after": after, "result": result, "first": first, "listed": listed, "moved": moved,
            "unknown": unknown, "excluded": excluded, "labelled": labelled, "role_changed": role_changed, "winner": winner,
            "target_role": target_role, "a": a}


def _log(case, item_id: str) -> list[dict]:
    return [row for row in case["after"]["corrections_applied"] if row["item_id"] == item_id]


def test_the_queue_is_ranked_and_flags_its_items(case):
    before = case["before"]
    queue = before["review_queue"]
    assert [int(row["rank"]) for row in queue] == list(range(1, len(queue) + 1))
    # The expected benefit of a check, recomputed from the published files, never rises down the queue.
    recurring = {item_id: int(row["n_departements"]) for row in before["recurring_statements"]
                 for item_id in row["item_ids"].split(" | ")}
    benefits = [Signals(row["category"], float(row["category_score"]),
                        recurring_departements=recurring.get(row["item_id"], 0)).benefit() for row in queue]
    assert benefits == sorted(benefits, reverse=True) and benefits[-1] >= MIN_ERROR
    assert all(row["why"].startswith("Score de confiance") and row["why"].endswith(".") for row in queue)
    assert all(not row[column] for row in queue for column in ("category_corrected", "exclude", "comment"))
    flagged = {row["item_id"] for row in before["items"] if row["needs_review"] == "true"}
    assert flagged == {row["item_id"] for row in queue}
    assert {row["category_source"] for row in before["items"]} == {"model"}


def test_the_classifier_signals_are_named_and_recurring_statements_weigh_more():
    # The calibrated score has weighed margin and disagreement already: they
    # explain the item's place, the recurring statement raises its weight.
    plain = Signals("formation", 0.8)
    doubtful = Signals("formation", 0.8, margin=0.02, model_category="formation", cue_category="equipement",
                       recurring_departements=4)
    assert doubtful.error() == plain.error() and doubtful.benefit() > plain.benefit()
    why = doubtful.why()
    assert "deuxième catégorie proche" in why and "« Formation »" in why and "4 départements" in why
    assert "equipement" not in why  # labels, not codes
    assert Signals("formation", 0.99).error() < MIN_ERROR


def test_items_of_a_doubtfully_read_scan_are_flagged_whatever_their_score():
    scanned = Signals("formation", 0.99, ocr_confidence=0.7)
    assert scanned.doubtful_reading and "reconnaissance de caractères, confiance 0,70" in scanned.why()
    assert not Signals("formation", 0.99, ocr_confidence=0.95).doubtful_reading
    assert not Signals("formation", 0.99).doubtful_reading


def test_workbook_review_sheet_offers_the_codes_with_their_labels(case):
    workbook = openpyxl.load_workbook(case["outputs"] / "synthese.xlsx")
    assert workbook.sheetnames[0] == REVIEW_SHEET and workbook[LISTS_SHEET].sheet_state == "hidden"
    sheet = workbook[REVIEW_SHEET]
    header = [cell.value for cell in sheet[1]]
    assert header == [column.header for column in sheet_columns("review_queue")]
    assert header[:3] == ["Rang", "Identifiant de l'énoncé", "Identifiant du document"]
    # Beside each code, its label: « Catégorie proposée (code) » then « Catégorie proposée ».
    proposed = header.index("Catégorie proposée (code)")
    assert header[proposed + 1] == "Catégorie proposée"
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert row[proposed + 1] == category_labels()[row[proposed]]
    validations = {re.match(r"[A-Z]+", str(v.sqref)).group(): v for v in sheet.data_validations.dataValidation}
    letters = {column: get_column_letter(header.index(column_label("review_queue", column)) + 1)
               for column in ("category_corrected", "categories_corrected", "theme_corrected", "role_corrected")}
    assert set(letters.values()) <= set(validations)
    category_list = validations[letters["category_corrected"]].formula1  # Listes!$A$2:$A$14
    assert category_list.startswith(f"{LISTS_SHEET}!")
    cells = workbook[LISTS_SHEET][category_list.split("!")[1].replace("$", "")]
    choices = [row[0].value for row in cells]
    assert len(choices) == len(CATEGORIES)
    assert [parse_code(choice, category_labels()) for choice in choices] == list(category_labels())


def test_corrections_are_applied_from_csv_excel_csv_and_xlsx(case):
    items = {row["item_id"]: row for row in case["after"]["items"]}
    first, listed, moved = case["first"], case["listed"], case["moved"]
    assert items[first["item_id"]]["category"] == case["winner"]  # the XLSX, more recent than A
    assert items[first["item_id"]]["categories"].split(" | ")[0] == case["winner"]
    assert items[listed["item_id"]]["categories"] == "formation | equipement"
    assert items[listed["item_id"]]["category"] == "formation"
    assert items[moved["item_id"]]["theme"] != moved["theme"]
    assert items[case["labelled"]["item_id"]]["category"] == "pedagogie"
    changed = items[case["role_changed"]["item_id"]]
    assert (changed["role"], changed["category"]) == (case["target_role"], case["role_changed"]["category"])
    corrected = [case[name]["item_id"] for name in ("first", "listed", "moved", "labelled", "role_changed")]
    for item_id in corrected:
        assert items[item_id]["category_source"] == "analyst" and items[item_id]["needs_review"] == "false"
    assert items[case["unknown"]["item_id"]]["category_source"] == "model"
    statuses = {(row["correction_file"], row["item_id"], row["field"]): row["status"]
                for row in case["after"]["corrections_applied"]}
    assert statuses[("a_premiere_relecture.csv", first["item_id"], "category")] == "superseded"
    assert statuses[("c_synthese.xlsx", first["item_id"], "category")] == "applied"
    assert statuses[("b_excel.csv", case["labelled"]["item_id"], "category")] == "applied"
    # The queue's untouched rows in the workbook are no corrections: nothing else is logged for C.
    assert sum(1 for key in statuses if key[0] == "c_synthese.xlsx") == 2


def test_unknown_codes_and_missing_items_are_refused_with_a_french_reason(case):
    unknown = _log(case, case["unknown"]["item_id"])
    assert [(row["status"], row["new_value"]) for row in unknown] == [("unknown_code", "informatique")]
    assert "inconnue" in unknown[0]["message"]
    missing = _log(case, "0000000000000000")
    assert [row["status"] for row in missing] == ["item_not_found"] and "introuvable" in missing[0]["message"]
    assert all(row["message"] for row in case["after"]["corrections_applied"])
    # The UI: counts as metadata, and a warning check listing what was refused.
    result = case["result"]
    metadata = result.asset_materializations_for_node("apply_analyst_corrections")
    counts = {m.asset_key.to_user_string(): m.metadata for m in metadata}["corrections_applied"]
    assert (counts["corrections appliquées"].value, counts["corrections refusées"].value) == (6, 2)
    warning = next(e for e in result.get_asset_check_evaluations() if e.check_name == "corrections_refusees")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert "informatique" in warning.metadata["détail"].value and "introuvable" in warning.metadata["détail"].value


def test_an_excluded_item_leaves_items_and_every_aggregate(case):
    before, after, gone = case["before"], case["after"], case["excluded"]["item_id"]
    assert gone not in {row["item_id"] for row in after["items"]}
    assert gone not in {row["item_id"] for row in after["review_queue"]}
    assert all(gone not in row["item_ids"] for row in after["recurring_statements"])
    assert [row["status"] for row in _log(case, gone)] == ["applied"]

    def total(table: str, columns: list[str]) -> int:
        return sum(int(row[column]) for row in table for column in columns)

    # Theme, role and category corrections move statements; only the exclusion removes one.
    assert total(after["theme_summary"], ["n_items"]) == total(before["theme_summary"], ["n_items"]) - 1
    assert total(after["category_summary"], ["n_items"]) == total(before["category_summary"], ["n_items"]) - 1
    matrix = [f"n_{role}" for role in MATRIX_ROLES]
    assert total(after["department_theme_matrix"], matrix) == total(before["department_theme_matrix"], matrix) - 1
    sheet = openpyxl.load_workbook(case["outputs"] / "synthese.xlsx", read_only=True)[SHEET_NAMES["items"]]
    assert gone not in {row[0] for row in sheet.iter_rows(values_only=True)}


def test_corrections_rebuild_the_tables_without_reading_any_file(case):
    materialized = {m.asset_key.to_user_string() for m in case["result"].get_asset_materialization_events()}
    assert "document" not in materialized and {"items", "publication", "synthesis_workbook"} <= materialized
    queued = {row["item_id"] for row in case["after"]["review_queue"]}
    corrected = {row["item_id"] for row in case["after"]["items"] if row["category_source"] == "analyst"}
    assert corrected and not queued & corrected


def test_the_sensor_refreshes_the_tables_when_a_corrections_file_is_added_or_saved(case, tmp_path):
    folder = tmp_path / "corrections"
    resources_ = {"corrections_folder": CorrectionsFolder(path=str(folder))}
    with dg.DagsterInstance.ephemeral() as instance:
        def tick(cursor=None):
            return corrections_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources_))

        empty = tick()
        assert empty.run_requests == [] and [e.asset_key.path for e in empty.asset_events] == [["corrections"]]
        quiet = tick(empty.cursor)
        assert not quiet.run_requests and not quiet.asset_events  # nothing new: no observation, no run
        folder.mkdir()
        shutil.copy(case["a"], folder / "relecture.csv")
        added = tick(empty.cursor)
        assert [r.job_name for r in added.run_requests] == ["mettre_a_jour_les_tables"]
        version = added.asset_events[0].tags["dagster/data_version"]
        assert tick(added.cursor).run_requests == []
        os.utime(folder / "relecture.csv", ns=(10**18, 10**18))  # saved again: the time decides which file wins
        saved = tick(added.cursor)
        assert len(saved.run_requests) == 1 and saved.run_requests[0].run_key != added.run_requests[0].run_key
        assert saved.asset_events[0].tags["dagster/data_version"] != version
        (folder / "relecture.csv").unlink()
        assert len(tick(saved.cursor).run_requests) == 1  # a file removed: its corrections leave the tables


def test_corrections_folder_option_and_variable(case, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EGN_CORRECTIONS_DIR", str(tmp_path / "ailleurs"))
    assert resources("raw")["corrections_folder"].path == str(tmp_path / "ailleurs")
    monkeypatch.delenv("EGN_CORRECTIONS_DIR")
    assert Path(resources("/data/egn/raw")["corrections_folder"].path) == Path("/data/egn/corrections")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("EGN_CACHE_DIR", str(case["chosen"]["result_store"].cache.root))
    out = tmp_path / "out"
    assert egn(["run", "--raw", str(case["raw"]), "--outputs", str(out), "--corrections", str(case["corrections"])]) == 0
    assert _read(out / "corrections_applied.csv") == case["after"]["corrections_applied"]
    assert _read(out / "items.csv") == case["after"]["items"]


def test_a_new_corrections_file_is_something_to_redo(case, tmp_path):
    """`egn run` skips a run only when the files *and* the corrections are as published."""
    folder = tmp_path / "corrections"
    folder.mkdir()
    chosen = {**case["chosen"], "outputs_folder": OutputsFolder(path=str(tmp_path / "out")),
              "corrections_folder": CorrectionsFolder(path=str(folder))}
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        assert materialize_all(chosen, instance).success
        assert materialize_all(chosen, instance) is None
        shutil.copy(case["a"], folder / "relecture.csv")
        again = materialize_all(chosen, instance)
        assert again.success and "document" not in {
            m.asset_key.to_user_string() for m in again.get_asset_materialization_events()}
        assert materialize_all(chosen, instance) is None
    log = _read(tmp_path / "out" / "corrections_applied.csv")
    assert {row["correction_file"] for row in log} == {"relecture.csv"} and len(log) == 5


def test_corrections_survive_a_rerun_and_a_re_sent_file(case):
    outputs, chosen = case["outputs"], case["chosen"]
    _run(chosen)  # a rerun: the same corrections, the same files
    assert _read(outputs / "items.csv") == case["after"]["items"]
    assert _read(outputs / "corrections_applied.csv") == case["after"]["corrections_applied"]

    # Sarthe sends its file again: other bytes (its properties), so a new document id and new item ids.
    path = case["raw"] / SARTHE
    _resend(path)
    _run(chosen)
    items = _read(outputs / "items.csv")
    old_ids = {row["item_id"] for row in case["after"]["items"]}
    sarthe = [row for row in items if row["departement_code"] == "72"]
    assert sarthe and not {row["item_id"] for row in sarthe} & old_ids

    def by_text(statement: dict) -> dict:
        return next(row for row in sarthe if row["text"] == statement["text"] and row["section"] == statement["section"])

    assert by_text(case["first"])["category"] == case["winner"]  # XLSX: the queue's own columns
    assert by_text(case["listed"])["categories"] == "formation | equipement"  # bare id: the memory of corrected items
    assert by_text(case["moved"])["category_source"] == "analyst"
    assert case["excluded"]["text"] not in {row["text"] for row in sarthe if row["section"] == case["excluded"]["section"]
                                            and row["role"] == case["excluded"]["role"]}
    log = _read(outputs / "corrections_applied.csv")
    applied = [row for row in log if row["status"] == "applied"]
    assert len(applied) == 6 and all("nouvelle version du fichier" in row["message"] for row in applied)
    assert {row["status"] for row in log if row["item_id"] == "0000000000000000"} == {"item_not_found"}


def _resend(path: Path) -> None:
    """The same document with another property (as a re-save in Word does)."""
    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info.filename) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            if info.filename == "docProps/core.xml":
                data = data.replace(b"<cp:revision>1</cp:revision>", b"<cp:revision>2</cp:revision>")
            target.writestr(info, data)
