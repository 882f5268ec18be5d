"""Sensor, schedule, partitions and checks, tested with Dagster's own builders."""

from __future__ import annotations

import json
import os
import shutil
import time

import dagster as dg
import pandas as pd
from conftest import CORPUS

from assets import documents as document_assets
from assets.automation import nightly_refresh, raw_folder_sensor
from assets.checks import ALL_CHECKS
from assets.definitions import ALL_ASSETS
from assets.partitions import FILES, partition_key
from assets.resources import RawFolder, resources
from pipeline.labels import ORIGIN_LABELS

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _tick(instance, raw, cursor=None):
    """One evaluation of the sensor, its partition requests applied as the daemon applies them."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"raw_folder": RawFolder(path=str(raw))})
    result = raw_folder_sensor(context)
    for request in result.dynamic_partitions_requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(FILES.name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(FILES.name, key)
    return result


def _covered(instance, request) -> list[str]:
    """The files a run over a range of partitions processes."""
    keys = instance.get_dynamic_partitions(FILES.name)
    start, end = request.tags[RANGE_START], request.tags[RANGE_END]
    return keys[keys.index(start): keys.index(end) + 1]


def test_a_first_tick_over_many_files_asks_for_one_run(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS, raw)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, raw)
        [request] = first.run_requests
        assert request.job_name == "traiter_tous_les_fichiers"
        assert len(instance.get_dynamic_partitions(FILES.name)) == len(list(CORPUS.iterdir())) > 10
        assert _covered(instance, request) == instance.get_dynamic_partitions(FILES.name)


def test_sensor_asks_for_one_run_over_new_and_changed_files_and_drops_deleted_ones(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(CORPUS / "sarthe-72.docx", raw / "sarthe-72.docx")
    shutil.copy(CORPUS / "Trame de restitution EGN 45.docx", raw / "Trame de restitution EGN 45.docx")
    shutil.copy(CORPUS / "sarthe-72.pdf", raw / "sarthe-72.pdf")
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, raw)
        assert len(first.run_requests) == 1
        assert _covered(instance, first.run_requests[0]) == [
            "Trame de restitution EGN 45.docx", "sarthe-72.docx", "sarthe-72.pdf"]

        # Nothing changed: no run, same files in the cursor.
        quiet = _tick(instance, raw, first.cursor)
        assert quiet.run_requests == []
        assert json.loads(quiet.cursor)["files"] == json.loads(first.cursor)["files"]

        # A new file in a sub-folder, and a changed file: one run, from the
        # changed file to the new one (the unchanged file between them comes from the cache).
        (raw / "lot 2").mkdir()
        shutil.copy(CORPUS / "EGNum_Ille_et_vilaine_synthese_def.docx", raw / "lot 2" / "ille.docx")
        changed = raw / "sarthe-72.docx"
        changed.write_bytes((CORPUS / "Trame de restitution EGN 45.docx").read_bytes())
        os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
        second = _tick(instance, raw, quiet.cursor)
        [request] = second.run_requests
        assert request.job_name == "traiter_tous_les_fichiers" and request.run_key != first.run_requests[0].run_key
        assert _covered(instance, request) == ["sarthe-72.docx", "sarthe-72.pdf", "lot 2/ille.docx"]

        # A deleted file that was processed leaves the partitions, and the tables are rebuilt.
        instance.report_runless_asset_event(dg.AssetMaterialization("document", partition="sarthe-72.pdf"))
        (raw / "sarthe-72.pdf").unlink()
        third = _tick(instance, raw, second.cursor)
        assert [r.job_name for r in third.run_requests] == ["mettre_a_jour_les_tables"]
        assert "sarthe-72.pdf" not in instance.get_dynamic_partitions(FILES.name)


def test_a_partition_added_by_hand_without_a_file_is_dropped_without_a_run(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(CORPUS / "sarthe-72.docx", raw / "sarthe-72.docx")
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, raw)
        # What "Add a partition" in the UI does, for a file that is not in the folder.
        instance.add_dynamic_partitions(FILES.name, ["fantome.pdf"])
        second = _tick(instance, raw, first.cursor)
        assert second.run_requests == []
        assert instance.get_dynamic_partitions(FILES.name) == ["sarthe-72.docx"]
        # Dropped with a new file in the same tick: the run covers the new file only.
        instance.add_dynamic_partitions(FILES.name, ["fantome.pdf"])
        shutil.copy(CORPUS / "sarthe-72.pdf", raw / "sarthe-72.pdf")
        third = _tick(instance, raw, second.cursor)
        [request] = third.run_requests
        assert _covered(instance, request) == ["sarthe-72.pdf"]
        assert instance.get_dynamic_partitions(FILES.name) == ["sarthe-72.docx", "sarthe-72.pdf"]


def test_cursor_round_trips_and_a_file_written_back_is_processed_again(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    target = raw / "a.docx"
    shutil.copy(CORPUS / "sarthe-72.docx", target)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, raw)
        state = json.loads(first.cursor)
        assert json.loads(json.dumps(state)) == state and state["files"]["a.docx"]["sha256"]
        target.write_bytes((CORPUS / "Trame de restitution EGN 45.docx").read_bytes())
        os.utime(target, ns=(1, 1))
        second = _tick(instance, raw, first.cursor)
        shutil.copy(CORPUS / "sarthe-72.docx", target)
        os.utime(target, ns=(2, 2))
        third = _tick(instance, raw, second.cursor)
        keys = [r.run_key for r in (*first.run_requests, *second.run_requests, *third.run_requests)]
        assert len(keys) == 3 and len(set(keys)) == 3  # back to the first content: a new run key


def test_partition_keys_are_readable_and_valid():
    assert partition_key("lot 2/Trame EGN « 72 ».docx") == "lot 2/Trame EGN « 72 ».docx"
    assert "..." not in partition_key("a...b.pdf") and "\n" not in partition_key("a\nb.pdf")


def test_one_partition_materialises_from_a_real_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(CORPUS / "sarthe-72.pdf", raw / "sarthe-72.pdf")
    chosen = resources(str(raw), str(tmp_path / "out"), str(tmp_path / "cache"))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(FILES.name, ["sarthe-72.pdf"])
        result = dg.materialize([document_assets.document], partition_key="sarthe-72.pdf",
                                resources=chosen, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("document")[0].metadata
    assert (metadata["statut"].value, metadata["énoncés"].value, metadata["provenance du résultat"].value) == (
        "Intégré", 98, ORIGIN_LABELS["lu"])
    assert metadata["pages"].value > 1 and metadata["catégories"].value  # read and classified
    assert chosen["result_store"].cache.recorded("sarthe-72.pdf")["source_file"] == "sarthe-72.pdf"


def test_nightly_schedule_requests_one_run_over_every_file():
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance)
        assert isinstance(nightly_refresh(context), dg.SkipReason)
        instance.add_dynamic_partitions(FILES.name, ["a.pdf", "b.docx", "c.pdf"])
        request = nightly_refresh(dg.build_schedule_context(instance=instance))
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("a.pdf", "c.pdf")
    assert nightly_refresh.job_name == "traiter_tous_les_fichiers"
    assert nightly_refresh.cron_schedule == "0 2 * * *" and nightly_refresh.execution_timezone == "Europe/Paris"


def test_a_failing_blocking_check_stops_publication(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(CORPUS / "sarthe-72.docx", raw / "sarthe-72.docx")
    from pipeline.tables import rows as pipeline_tables

    real = pipeline_tables.items_table

    def broken(results):  # a duplicated item id slips in
        frame = real(results)
        return pd.concat([frame, frame.head(1)], ignore_index=True)

    monkeypatch.setattr(pipeline_tables, "items_table", broken)
    chosen = resources(str(raw), str(tmp_path / "out"), str(tmp_path / "cache"))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(FILES.name, ["sarthe-72.docx"])
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=chosen, instance=instance,
                                partition_key="sarthe-72.docx", raise_on_error=False)
    failed = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()
              if not e.passed}
    # The schema check runs in the items step itself and names the duplicated column.
    assert list(failed) == [("items", "schema_du_contrat")]
    assert "item_id" in failed["items", "schema_du_contrat"].metadata["exemples"].value
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "items" in materialized and "publication" not in materialized
    assert not (tmp_path / "out" / "items.csv").exists()
