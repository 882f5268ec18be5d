"""The analysts' path: the real webserver and daemon, a click on
"Materialize all" sent through the GraphQL API as the UI sends it, and the
contract's files at the end. The processes are cleaned up whatever happens."""

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


def test_materialize_all_from_the_ui_writes_the_contract_files(dagster_dev, tmp_path):
    server, outputs, models = dagster_dev
    # The sensor turns the files dropped in the folder into partitions.
    partitions = server.wait(lambda: len(server.graphql(
        '{ assetNodeOrError(assetKey: {path: ["document"]}) { ... on AssetNode { partitionKeys } } }'
    )["assetNodeOrError"]["partitionKeys"]) == len(FILES), 180, "the sensor's partitions")
    assert partitions

    # "Materialize all": a backfill of every asset the pipeline builds (not the
    # analysts' corrections folder, which it only observes; retraining the
    # model, group "modele", is a separate, deliberate act).
    nodes = server.graphql("{ assetNodes { assetKey { path } groupName isMaterializable } }")["assetNodes"]
    keys = [node["assetKey"]["path"] for node in nodes if node["isMaterializable"] and node["groupName"] != "modele"]
    assert ["publication"] in keys and ["document"] in keys
    launched = server.graphql(
        "mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {"
        " __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
        {"params": {"assetSelection": [{"path": path} for path in keys], "allPartitions": True}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    status = server.wait(lambda: server.graphql(
        'query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }',
        {"id": launched["backfillId"]},
    )["partitionBackfillOrError"]["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"),
        900, "the backfill")
    final = server.graphql(
        'query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }',
        {"id": launched["backfillId"]},
    )["partitionBackfillOrError"]["status"]
    assert final in ("COMPLETED", "COMPLETED_SUCCESS"), final
    assert status

    with (outputs / "documents.csv").open(encoding="utf-8") as handle:
        documents = {row["source_file"]: row["status"] for row in csv.DictReader(handle)}
    assert documents == {"sarthe-72.docx": "ok", "Trame de restitution EGN 45.docx": "partial",
                         "restitution_EGN_05_protege.pdf": "rejected"}
    with (outputs / "items.csv").open(encoding="utf-8") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) > 100
    assert (outputs / "report" / "index.html").exists() and (outputs / "synthese.xlsx").exists()

    # Then an analyst retrains the model from the UI. A candidate trained one
    # short epoch is worse on the blind set: the blocking check refuses it,
    # the model in service does not change, and the shipped one is untouched.
    config = (ROOT / "pipeline" / "classify" / "config.cfg").read_text(encoding="utf-8")
    weak = tmp_path / "weak.cfg"
    weak.write_text(config.replace("max_epochs = 12", "max_epochs = 1").replace("members = 2", "members = 1")
                    .replace("learn_rate = 0.001", "learn_rate = 0.00005"), encoding="utf-8")
    shipped = {path: path.read_bytes() for path in (ROOT / "pipeline" / "classify" / "model").rglob("*") if path.is_file()}
    run = server.graphql(
        "mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {"
        " __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
        {"params": {
            "selector": {"repositoryLocationName": "assets.definitions", "repositoryName": "__repository__",
                         "jobName": "reentrainement_modele"},
            "runConfigData": {"ops": {"modele_candidat": {"config": {"training_config": str(weak)}}}},
        }},
    )["launchRun"]
    assert run["__typename"] == "LaunchRunSuccess", run
    run_id = run["run"]["runId"]

    def run_status():
        status = server.graphql('query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }',
                                {"id": run_id})["runOrError"]["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert server.wait(run_status, 900, "the retraining run") == "FAILURE"
    checks = server.graphql(
        '{ assetCheckExecutions(assetKey: {path: ["modele_candidat"]}, checkName: "sans_regression", limit: 1)'
        " { evaluation { success } } }"
    )["assetCheckExecutions"]
    assert checks and checks[0]["evaluation"]["success"] is False
    assert len(list((models / "versions").iterdir())) == 1  # the candidate was written…
    assert not (models / "promoted.json").exists()  # …and not put in service
    assert {path: path.read_bytes() for path in shipped} == shipped
