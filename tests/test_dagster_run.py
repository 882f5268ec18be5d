"""The Dagster layer: a run over every asset writes the contract's files,
and `egn run` drives the same definitions."""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from conftest import CORPUS

from assets.cli import materialize_all
from assets.definitions import defs
from assets.documents import INTEGRATION_CHECK
from assets.resources import resources
from pipeline.labels import ORIGIN_LABELS, STATUS_LABELS, status_label
from pipeline.tables.schemas import COLUMNS

FILES = [
    "sarthe-72.docx", "sarthe-72.pdf", "Trame de restitution EGN 45.docx",
    "35_restitution_etats_generaux_numerique_v1_premiere_session.pdf", "EGNum_Ille_et_vilaine_synthese_def.docx",
    "restitution_EGN_05_protege.pdf", "Trame_restitution_EGN_02.odt", "notes_atelier_EGN.docx",
]


ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
ORIGIN = "provenance du résultat"  # the per-file metadata saying whether the file was read in this run


def _read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    raw, outputs = base / "raw", base / "outputs"
    raw.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, raw / name)
    before = _digest(raw)
    chosen = resources(str(raw), str(outputs), str(base / "cache"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_all(chosen, instance)
    return result, raw, outputs, before, chosen


def test_definitions_load():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"document", "corpus", "documents", "items", "publication"} <= keys
    assert all(defs.resolve_job_def(job) for job in ("traiter_tous_les_fichiers", "lire_les_fichiers_choisis",
                                                     "mettre_a_jour_les_tables"))


def test_every_contract_file_is_written_with_its_columns(run):
    result, _, outputs, _, _ = run
    assert result.success
    for name, columns in COLUMNS.items():
        text = (outputs / f"{name}.csv").read_bytes()
        assert not text.startswith(b"\xef\xbb\xbf") and b"\r\n" not in text
        assert text.decode().splitlines()[0] == ",".join(columns)
    assert (outputs / "egn.duckdb").exists()


def test_statuses_reasons_and_quarantine(run):
    _, _, outputs, _, _ = run
    documents = {row["source_file"]: row for row in _read(outputs / "documents.csv")}
    assert documents["sarthe-72.docx"]["status"] == "ok"
    partial = documents["Trame de restitution EGN 45.docx"]
    assert (partial["status"], partial["reason"]) == ("partial", "missing_sections")
    assert documents["restitution_EGN_05_protege.pdf"]["reason"] == "encrypted"
    odt = documents["Trame_restitution_EGN_02.odt"]
    assert (odt["status"], odt["format"], odt["departement_code"], odt["ocr"], odt["ocr_confidence"]) == (
        "ok", "odt", "02", "false", "")
    quarantined = {row["source_file"] for row in _read(outputs / "quarantine.csv")}
    assert quarantined == {"Trame de restitution EGN 45.docx", "restitution_EGN_05_protege.pdf",
                           "notes_atelier_EGN.docx"}
    # The first session of Ille-et-Vilaine is superseded by the later one.
    assert documents["35_restitution_etats_generaux_numerique_v1_premiere_session.pdf"]["is_current"] == "false"
    assert documents["EGNum_Ille_et_vilaine_synthese_def.docx"]["is_current"] == "true"
    assert documents["restitution_EGN_05_protege.pdf"]["is_current"] == ""


def test_each_file_not_integrated_fails_its_partition_check_and_the_quarantine_check_lists_it(run):
    result, _, outputs, _, _ = run
    held = {row["source_file"]: row for row in _read(outputs / "documents.csv") if row["status"] != "ok"}
    assert {row["status"] for row in held.values()} == {"partial", "rejected"}
    evaluations = result.get_asset_check_evaluations()
    per_file = {e.partition: e for e in evaluations if e.check_name == INTEGRATION_CHECK}
    assert set(per_file) == set(FILES)
    # A rejected file is an error on its partition, a partial one a warning, in French.
    assert {key: (e.severity, e.metadata["statut"].value) for key, e in per_file.items() if not e.passed} == {
        name: (ERROR if row["status"] == "rejected" else WARN, status_label(row["status"], row["reason"]))
        for name, row in held.items()}
    assert per_file["restitution_EGN_05_protege.pdf"].description == "Rejeté – PDF protégé par mot de passe"

    [quarantine] = [e for e in evaluations if e.check_name == "fichiers_en_quarantaine"]
    assert (quarantine.passed, quarantine.severity) == (False, WARN)
    listing = quarantine.metadata["fichiers non intégrés"].value.splitlines()
    rows = {name: next(line for line in listing if f"`{name}`" in line) for name in held}
    assert all(status_label(row["status"], row["reason"]) in rows[name] for name, row in held.items())
    assert "Département supposé d'après le nom du fichier : Hautes-Alpes (05)." in rows["restitution_EGN_05_protege.pdf"]
    assert len(listing) == 2 + len(held)  # a header, its rule, then one line per file


def test_item_rows_are_complete_unique_and_classified(run):
    _, _, outputs, _, _ = run
    items = _read(outputs / "items.csv")
    assert len({row["item_id"] for row in items}) == len(items)
    assert all(row["theme"] for row in items)
    pdf_items = [row for row in items if row["page"]]
    assert pdf_items and all(int(row["page"]) >= 1 for row in pdf_items)
    classified_roles = {"irritant", "point_fort", "besoin", "levier", "action", "difficulte"}
    for row in items:
        if row["role"] in classified_roles:
            assert row["category"] and row["categories"].split(" | ")[0] == row["category"]
            assert 0 < float(row["category_score"]) <= 1
        else:
            assert not row["category"] and not row["categories"]
    participants = _read(outputs / "participants.csv")
    assert all(row["count"] == "" or int(row["count"]) >= 0 for row in participants)


def test_aggregates_count_each_departement_once(run):
    _, _, outputs, _, _ = run
    matrix = _read(outputs / "department_theme_matrix.csv")
    # Aisne (ODT), Sarthe (DOCX and PDF of one session), Ille-et-Vilaine (current file), Loiret (partial).
    assert sorted({row["departement_code"] for row in matrix}) == ["02", "35", "45", "72"]
    assert len(matrix) == 4 * 5
    sarthe = {row["theme"]: row for row in matrix if row["departement_code"] == "72"}
    # Counted by hand in the Sarthe document: 5 in the diagnostic, 1 in the projection.
    assert sarthe["gouvernance"]["n_irritant"] == "6"


def test_raw_folder_is_never_modified(run):
    _, raw, _, before, _ = run
    assert _digest(raw) == before


def test_rerun_without_change_reads_no_file_and_writes_identical_files(run):
    """Byte for byte: the CSV files, the report and the workbook. The DuckDB
    file holds the same tables (its bytes are DuckDB's own business); only
    the manifest differs, by its run id and time."""
    result, raw, outputs, _, chosen = run
    first, first_database = _every_file(outputs), _database(outputs / "egn.duckdb")
    with dg.DagsterInstance.ephemeral() as instance:
        again = materialize_all(chosen, instance)
    assert again.success
    materialized = {m.asset_key.to_user_string() for m in again.get_asset_materialization_events()}
    assert "document" not in materialized
    assert "publication" in materialized
    second = _every_file(outputs)
    assert len([name for name in first if name.endswith(".csv")]) == len(COLUMNS)
    assert {"synthese.xlsx", "report/index.html"} <= set(first)
    assert {n: d for n, d in first.items() if n not in ("manifest.json", "egn.duckdb")} == \
        {n: d for n, d in second.items() if n not in ("manifest.json", "egn.duckdb")}
    assert _database(outputs / "egn.duckdb") == first_database


def _check_partitions(instance) -> dict[str, set[str]]:
    """The partitions of the per-file check, by status, as Dagster keeps them for the UI."""
    from dagster._core.definitions.partitions.context import partition_loading_context

    from assets.partitions import FILES as PARTITIONS

    key = dg.AssetCheckKey(dg.AssetKey("document"), INTEGRATION_CHECK)
    with partition_loading_context(dynamic_partitions_store=instance):
        state = instance.event_log_storage.get_asset_check_state([(key, PARTITIONS)])[key]
    return {status.value: set(subset.subset_value.get_partition_keys())
            for status, subset in state.subsets.items() if not subset.is_empty}


def _every_file(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _database(path):
    """Every table of a DuckDB file: its columns with their types, and its rows in order."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        names = [row[0] for row in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {name: (con.execute(f'DESCRIBE "{name}"').fetchall(), con.execute(f'SELECT * FROM "{name}"').fetchall())
                for name in names}


def test_rerun_after_one_change_reads_only_that_file(run, tmp_path):
    _, raw, _, _, chosen = run
    changed = raw / "sarthe-72.docx"
    original = changed.read_bytes()
    try:
        shutil.copy(CORPUS / "01_restitution_etats_generaux_numerique_VF.docx", changed)
        with dg.DagsterInstance.ephemeral() as instance:
            again = materialize_all(chosen, instance)
        assert again.success
        files = {m.partition: m.metadata for m in again.asset_materializations_for_node("document")}
        assert [key for key, metadata in files.items() if metadata[ORIGIN].value == ORIGIN_LABELS["lu"]] == ["sarthe-72.docx"]
        changed_file = files["sarthe-72.docx"]
        assert changed_file["statut"].value == STATUS_LABELS["ok"] and changed_file["énoncés"].value > 0
        assert changed_file["catégories"].value
        summary = again.asset_observations_for_node("document")[0].metadata
        assert (summary["fichiers"].value, summary["lus"].value) == (len(files), 1)
        assert 0 < summary["énoncés classés"].value <= changed_file["énoncés"].value
    finally:
        changed.write_bytes(original)
        with dg.DagsterInstance.ephemeral() as instance:
            assert materialize_all(chosen, instance).success  # the other tests read these outputs


def test_a_new_classifier_reclassifies_every_file_without_reading_it_again(run):
    _, _, outputs, _, chosen = run
    items = _read(outputs / "items.csv")
    # What a new model or taxonomy leaves behind: read results, no classified ones.
    classified = chosen["result_store"].cache.root / "classification"
    shutil.rmtree(classified)
    with dg.DagsterInstance.ephemeral() as instance:
        again = materialize_all(chosen, instance)
    assert again.success
    files = {m.partition: m.metadata for m in again.asset_materializations_for_node("document")}
    assert set(files) == set(FILES)
    assert all(metadata[ORIGIN].value == ORIGIN_LABELS["reclasse"] for metadata in files.values())
    assert classified.is_dir()
    assert _read(outputs / "items.csv") == items


def test_a_promoted_model_reclassifies_from_the_cache_and_a_roll_back_returns_to_the_earlier_classes(run, tmp_path):
    from assets.resources import ClassifierResource, ResultStore
    from pipeline.classify.paths import default_model_dir
    from pipeline.classify.versions import ModelStore

    _, _, outputs, _, chosen = run
    items = _read(outputs / "items.csv")
    store = ModelStore(tmp_path / "models")
    version = store.new_version()
    shutil.copytree(default_model_dir(), version.path, dirs_exist_ok=True)
    store.promote(version)
    promoted = {**chosen, "classifier": ClassifierResource(models_dir=str(store.root)),
                "result_store": ResultStore(path=chosen["result_store"].path, models_dir=str(store.root))}
    with dg.DagsterInstance.ephemeral() as instance:
        again = materialize_all(promoted, instance)
    files = {m.partition: m.metadata for m in again.asset_materializations_for_node("document")}
    assert set(files) == set(FILES)
    assert all(metadata[ORIGIN].value == ORIGIN_LABELS["reclasse"] for metadata in files.values())
    assert list((chosen["result_store"].cache.root / "classification").glob(f"*-{version.name}/*.pickle"))
    assert _read(outputs / "items.csv") == items  # the same model under another name: the same classes

    store.roll_back()
    with dg.DagsterInstance.ephemeral() as instance:
        back = materialize_all(promoted, instance)
    assert back.success and not back.asset_materializations_for_node("document")  # every file classified already


def test_cli_runs_the_same_assets(run, tmp_path):
    _, raw, outputs, _, _ = run
    completed = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--raw", str(raw), "--outputs", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env={"EGN_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    progress = [line for line in completed.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == len(FILES)
    assert _read(tmp_path / "out" / "items.csv") == _read(outputs / "items.csv")


def test_cli_plans_the_per_file_asset_once_and_keeps_no_debug_lines(tmp_path, monkeypatch):
    raw, home = tmp_path / "raw", tmp_path / "home"
    raw.mkdir()
    home.mkdir()
    shutil.copy(Path(__file__).parent.parent / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    for name in ("sarthe-72.docx", "Trame de restitution EGN 45.docx"):
        shutil.copy(CORPUS / name, raw / name)
    completed = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--raw", str(raw), "--outputs", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
        env={"EGN_CACHE_DIR": str(tmp_path / "cache"), "DAGSTER_HOME": str(home), "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        records = instance.all_logs(run_id)
        events = [record.dagster_event for record in records if record.dagster_event]
    planned = [e for e in events if e.event_type_value == "ASSET_MATERIALIZATION_PLANNED" and e.asset_key.path == ["document"]]
    done = [e for e in events if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key.path == ["document"]]
    assert len(planned) == 1
    planned_keys = set(planned[0].event_specific_data.partitions_subset.get_partition_keys())
    assert planned_keys == {"sarthe-72.docx", "Trame de restitution EGN 45.docx"}
    assert len(done) == 2  # still one materialisation per file
    # Dagster's DEBUG lines ("Writing file at …" for each pickle) are not stored; INFO lines are.
    lines = [record for record in records if not record.dagster_event]
    assert lines and all(record.level >= logging.INFO for record in lines)


def test_cli_fails_only_when_the_run_fails(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    completed = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--raw", str(tmp_path), "--outputs", str(blocker / "out")],
        capture_output=True, text=True, timeout=600, env={"EGN_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""},
    )
    assert completed.returncode == 1


def test_the_failure_log_stays_bounded_over_failing_nights(tmp_path):
    from assets.cli import LOG_MAX_BYTES

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")

    def fail() -> Path:
        completed = subprocess.run(
            [sys.executable, "-m", "assets.cli", "run", "--raw", str(tmp_path), "--outputs", str(blocker / "out")],
            capture_output=True, text=True, timeout=600, env={"EGN_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""},
        )
        assert completed.returncode == 1
        return Path(completed.stderr.rsplit("Détails : ", 1)[1].strip())

    log = fail()
    story = log.read_text(encoding="utf-8")
    assert "Traceback" in story
    log.write_text(story + "x" * LOG_MAX_BYTES, encoding="utf-8")  # many failing nights later
    assert fail() == log
    assert log.with_name(log.name + ".1").stat().st_size > LOG_MAX_BYTES  # the old story, kept once
    assert "Traceback" in log.read_text(encoding="utf-8") and log.stat().st_size < LOG_MAX_BYTES


def test_rerun_with_a_persistent_instance_skips_what_is_already_published(tmp_path):
    raw, outputs = tmp_path / "raw", tmp_path / "outputs"
    raw.mkdir()
    for name in ("sarthe-72.docx", "restitution_EGN_05_protege.pdf"):
        shutil.copy(CORPUS / name, raw / name)
    chosen = resources(str(raw), str(outputs), str(tmp_path / "cache"))
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        first = materialize_all(chosen, instance)
        assert first.success
        # What the UI shows: the rejected file's partition failed its check,
        # the run (a success) carries the count of rejected files.
        assert _check_partitions(instance) == {"SUCCEEDED": {"sarthe-72.docx"},
                                               "FAILED": {"restitution_EGN_05_protege.pdf"}}
        assert instance.get_run_by_id(first.run_id).tags["egn/fichiers-rejetes"] == "1"
        published = _digest(outputs)
        assert materialize_all(chosen, instance) is None  # nothing changed: no run at all
        assert _digest(outputs) == published

        # A published file edited by hand is written again.
        (outputs / "items.csv").write_text("édité à la main\n", encoding="utf-8")
        assert materialize_all(chosen, instance).success
        csv_files = [name for name in published if name.endswith(".csv")]
        assert {name: _digest(outputs)[name] for name in csv_files} == {name: published[name] for name in csv_files}
        assert materialize_all(chosen, instance) is None

        # A file removed from the raw folder changes the corpus: republished without it.
        (raw / "restitution_EGN_05_protege.pdf").unlink()
        again = materialize_all(chosen, instance)
        assert again.success
        assert {row["source_file"] for row in _read(outputs / "documents.csv")} == {"sarthe-72.docx"}
