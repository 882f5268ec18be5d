"""The analysts' path: the real webserver and daemon. The sensor's one run
over the files already there, what the UI shows of the files that were
not integrated, a partition added by hand for a file that does not exist,
"Materialize all" on the job's page and the model's retraining, sent
through the GraphQL API as the UI sends them. The processes are cleaned
up whatever happens."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CORPUS
from services import free_port, stop_process_group

ROOT = Path(__file__).resolve().parent.parent
FILES = ["sarthe-72.docx", "Trame de restitution EGN 45.docx", "restitution_EGN_05_protege.pdf"]
REPOSITORY = {"repositoryLocationName": "assets.definitions", "repositoryName": "__repository__"}
SENSOR_RUNS = {"tags": [{"key": "dagster/sensor_name", "value": "nouveaux_fichiers"}]}
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class Server:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload
        return payload["data"]

    def runs(self, run_filter: dict) -> list[dict]:
        """The runs the run list shows for this filter, oldest first."""
        return self.graphql(
            "query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs { results {"
            " runId jobName status tags { key value } } } } }", {"filter": run_filter},
        )["runsOrError"]["results"][::-1]

    def finished(self, run_id: str) -> str | None:
        status = self.graphql('query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }',
                              {"id": run_id})["runOrError"]["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    def partition_keys(self) -> list[str]:
        return self.graphql('{ assetNodeOrError(assetKey: {path: ["document"]}) { ... on AssetNode { partitionKeys } } }'
                            )["assetNodeOrError"]["partitionKeys"]

    def wait(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = condition()
            except OSError:
                value = None
            if value:
                return value
            time.sleep(2)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def dagster_dev(tmp_path):
    home, raw, outputs = tmp_path / "home", tmp_path / "raw", tmp_path / "outputs"
    for folder in (home, raw, outputs):
        folder.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.local.yaml").read_text())
    for name in FILES:
        shutil.copy(CORPUS / name, raw / name)
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "EGN_RAW_DIR": str(raw), "EGN_OUTPUTS_DIR": str(outputs),
           "EGN_CACHE_DIR": str(tmp_path / "cache"), "EGN_MODELS_DIR": str(tmp_path / "models")}
    log = (tmp_path / "dagster-dev.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server(port)
    try:
        server.wait(lambda: urllib.request.urlopen(f"{server.url}/server_info", timeout=5).status == 200, 180, "the webserver")
        yield server, outputs, tmp_path / "models"
    finally:
        stop_process_group(process, timeout=30)
        log.close()


def test_the_analysts_day_in_the_ui(dagster_dev, tmp_path):
    server, outputs, models = dagster_dev
    # The files already in the folder: the sensor makes them partitions and
    # asks for one run over all of them, tables and publication included.
    first = server.wait(lambda: server.runs(SENSOR_RUNS), 180, "the sensor's run")
    assert [run["jobName"] for run in first] == ["traiter_tous_les_fichiers"]
    assert server.wait(lambda: server.finished(first[0]["runId"]), 900, "the sensor's run") == "SUCCESS"
    keys = server.partition_keys()
    assert sorted(keys) == sorted(FILES)
    tags = {tag["key"]: tag["value"] for tag in server.runs(SENSOR_RUNS)[0]["tags"]}
    assert (tags[RANGE_START], tags[RANGE_END]) == (keys[0], keys[-1])
    # The run list shows what was not integrated, though the run succeeded.
    assert (tags["egn/fichiers-rejetes"], tags["egn/fichiers-partiels"]) == ("1", "1")

    with (outputs / "documents.csv").open(encoding="utf-8") as handle:
        documents = {row["source_file"]: row["status"] for row in csv.DictReader(handle)}
    assert documents == {"sarthe-72.docx": "ok", "Trame de restitution EGN 45.docx": "partial",
                         "restitution_EGN_05_protege.pdf": "rejected"}
    with (outputs / "items.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) > 100
    assert (outputs / "report" / "index.html").exists() and (outputs / "synthese.xlsx").exists()

    # The per-file check's partitions, as the asset's "Checks" tab reads them.
    check = server.graphql(
        '{ assetNodeOrError(assetKey: {path: ["document"]}) { ... on AssetNode {'
        ' assetCheckOrError(checkName: "integration_du_fichier") { ... on AssetCheck {'
        " partitionStatuses { ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions } }"
        " } } } } }"
    )["assetNodeOrError"]["assetCheckOrError"]["partitionStatuses"]
    assert sorted(check["failedPartitions"]) == ["Trame de restitution EGN 45.docx", "restitution_EGN_05_protege.pdf"]
    assert check["succeededPartitions"] == ["sarthe-72.docx"]

    # "Add a partition" for a file that is not there: dropped at the
    # sensor's next tick, and no run is started for it.
    added = server.graphql(
        "mutation($repo: RepositorySelector!) { addDynamicPartition(repositorySelector: $repo,"
        ' partitionsDefName: "fichiers", partitionKey: "fantome.pdf") { __typename } }', {"repo": REPOSITORY},
    )["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess"
    assert server.wait(lambda: "fantome.pdf" not in server.partition_keys(), 180, "the phantom partition to go")
    assert len(server.runs(SENSOR_RUNS)) == 1
    assert not [run for run in server.runs({}) if "fantome.pdf" in {tag["value"] for tag in run["tags"]}]

    # "Materialize all" on the job's page, all partitions, "Launch backfill":
    # what the UI sends for a job. One run over every file.
    assets = server.graphql(
        '{ assetNodes(pipeline: {repositoryLocationName: "assets.definitions", repositoryName: "__repository__",'
        ' pipelineName: "traiter_tous_les_fichiers"}) { assetKey { path } } }'
    )["assetNodes"]
    launched = server.graphql(
        "mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {"
        " __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
        {"params": {"selector": {"partitionSetName": "traiter_tous_les_fichiers_partition_set",
                                 "repositorySelector": REPOSITORY},
                    "partitionNames": keys, "assetSelection": [node["assetKey"] for node in assets],
                    "fromFailure": False, "tags": []}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_runs = {"tags": [{"key": "dagster/backfill", "value": launched["backfillId"]}]}
    [run] = server.wait(lambda: server.runs(backfill_runs), 300, "the backfill's run")
    assert server.wait(lambda: server.finished(run["runId"]), 900, "the backfill's run") == "SUCCESS"
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert (run["jobName"], tags[RANGE_START], tags[RANGE_END]) == ("traiter_tous_les_fichiers", keys[0], keys[-1])
    assert len(server.runs(backfill_runs)) == 1

    # Then an analyst retrains the model from the UI. A candidate of one member
    # trained one short epoch is worse on the blind set: the blocking check
    # refuses it, the model in service does not change, and the shipped one
    # is untouched.
    config = (ROOT / "pipeline" / "classify" / "config.cfg").read_text(encoding="utf-8")
    weak = tmp_path / "weak.cfg"
    weak.write_text(config.replace("max_epochs = 12", "max_epochs = 1").replace("members = 2", "members = 1")
                    .replace('other_members = ["bag_of_words.cfg"]', "other_members = []")
                    .replace("learn_rate = 0.001", "learn_rate = 0.00005"), encoding="utf-8")
    shipped = {path: path.read_bytes() for path in (ROOT / "pipeline" / "classify" / "model").rglob("*") if path.is_file()}
    run = server.graphql(
        "mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {"
        " __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
        {"params": {
            "selector": {**REPOSITORY, "jobName": "reentrainement_modele"},
            "runConfigData": {"ops": {"modele_candidat": {"config": {"training_config": str(weak)}}}},
        }},
    )["launchRun"]
    assert run["__typename"] == "LaunchRunSuccess", run
    run_id = run["run"]["runId"]
    assert server.wait(lambda: server.finished(run_id), 900, "the retraining run") == "FAILURE"
    checks = server.graphql(
        '{ assetCheckExecutions(assetKey: {path: ["modele_candidat"]}, checkName: "sans_regression", limit: 1)'
        " { evaluation { success } } }"
    )["assetCheckExecutions"]
    assert checks and checks[0]["evaluation"]["success"] is False
    assert len(list((models / "versions").iterdir())) == 1  # the candidate was written…
    assert not (models / "promoted.json").exists()  # …and not put in service
    assert {path: path.read_bytes() for path in shipped} == shipped
