"""Publishing is all-or-nothing and no run leaves the pipeline stuck
(issue 18): real `egn run` processes on the fixture documents, stopped
with real signals at chosen moments, a real full disk, real concurrent
runs. The only bound on time is the one the issue sets: a run asked to
stop exits within 10 s."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from conftest import CORPUS

from assets.runs import PID_TAG, POOL, process_tags
from pipeline.labels import SHEET_NAMES
from pipeline.publish.folders import MANIFEST, publish, verified_manifest, versions_folder
from pipeline.publish.locks import LockBusy

DEPLOY = Path(__file__).parent.parent / "deploy" / "dagster.local.yaml"
SET_A = ["sarthe-72.docx", "Trame de restitution EGN 45.docx", "EGNum_Ille_et_vilaine_synthese_def.docx",
         "restitution_EGN_05_protege.pdf"]
SET_B = SET_A[:-1]  # different inputs: one file fewer
NEW_PDFS = ["sarthe-72.pdf", "35_restitution_etats_generaux_numerique_v1_premiere_session.pdf"]
TIME_COLUMNS = {"ingested_at", "detected_at"}  # the first time a file was seen: differs between two folders
STOP_WITHIN = 10


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def _raw(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    return folder


def _home(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(DEPLOY, folder / "dagster.yaml")
    return folder


def _egn(raw: Path, outputs: Path, cache: Path, home: Path | None = None, *extra: str, **env) -> subprocess.Popen:
    environment = {"PATH": os.environ.get("PATH", ""), "EGN_CACHE_DIR": str(cache), **env}
    if home:
        environment["DAGSTER_HOME"] = str(home)
    return subprocess.Popen([sys.executable, "-m", "assets.cli", "run", "--raw", str(raw), "--outputs", str(outputs),
                             *extra], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen, code: int = 0) -> tuple[str, str]:
    out, err = process.communicate(timeout=600)
    assert process.returncode == code, out + err
    return out, err


def _tables(outputs: Path) -> dict[str, list[dict]]:
    """Every CSV file, rows without the time a file was first seen."""
    tables = {}
    for path in sorted(outputs.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            tables[path.name] = [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in csv.DictReader(handle)]
    return tables


def _sources(outputs: Path) -> set[str]:
    with (outputs / "documents.csv").open(encoding="utf-8", newline="") as handle:
        return {row["source_file"] for row in csv.DictReader(handle)}


def _assert_whole(outputs: Path) -> dict:
    """The folder is one publication: exactly the manifest's files with their
    SHA-256, the workbook made from the same tables as the CSV files."""
    manifest = verified_manifest(outputs)
    assert manifest is not None, sorted(p.name for p in outputs.rglob("*"))
    workbook = openpyxl.load_workbook(io.BytesIO((outputs / "synthese.xlsx").read_bytes()), read_only=True)
    in_workbook = {row[0] for row in workbook[SHEET_NAMES["documents"]].iter_rows(min_row=2, values_only=True)}
    with (outputs / "documents.csv").open(encoding="utf-8", newline="") as handle:
        assert in_workbook == {row["document_id"] for row in csv.DictReader(handle)}
    return json.loads((outputs / MANIFEST).read_text(encoding="utf-8"))


def _assert_tidy(outputs: Path) -> None:
    """Beside the published set: the previous one at most, and the lock. Nothing temporary."""
    versions = versions_folder(outputs)
    current = os.readlink(outputs).rsplit("/", 1)[-1]
    others = [p for p in versions.iterdir() if p.name not in (current, "lock")]
    assert len(others) <= 1 and all((p / MANIFEST).is_file() and p.name < current for p in others), others
    assert not [p for p in versions.rglob("*") if p.name.endswith((".tmp", ".wal"))]


def _wait_for_publication_to_start(outputs: Path, process: subprocess.Popen) -> None:
    """Until the run has created its new version folder (it is writing into it)."""
    versions = versions_folder(outputs)
    before = {p.name for p in versions.iterdir()} if versions.exists() else set()
    while not (versions.exists() and {p.name for p in versions.iterdir() if p.is_dir()} - before - {".link"}):
        assert process.poll() is None, process.communicate()
        time.sleep(0.005)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(process: subprocess.Popen, sig: int) -> float:
    """Send the signal; how long the process took to exit."""
    start = time.monotonic()
    process.send_signal(sig)
    process.communicate(timeout=60)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A clean run of SET_A (no DAGSTER_HOME): its outputs, and a cache every test reuses."""
    base = tmp_path_factory.mktemp("publication")
    raw, outputs, cache = _raw(base / "raw", SET_A), base / "outputs", base / "cache"
    _finish(_egn(raw, outputs, cache))
    return raw, outputs, cache


# ----------------------------------------------------------------------------
# Killed, stopped, out of disk
# ----------------------------------------------------------------------------


def test_a_publication_killed_before_its_swap_leaves_the_previous_set_and_blocks_nothing(tmp_path):
    """SIGKILL after the first file, in the middle, after the last file (just
    before the one rename that publishes): the previous set stays whole, and
    the next publication neither waits nor leaves the killed one's files."""
    outputs = tmp_path / "outputs"
    publish(outputs, "precedente", lambda folder: (folder / "a.csv").write_text("précédente\n"), 5, print)
    harness = (
        "import sys\nfrom pathlib import Path\nfrom pipeline.publish.folders import publish\n"
        "def write(folder):\n"
        "    for n in range(5):\n"
        "        if n == int(sys.argv[2]):\n"
        "            print('pause', flush=True)\n"
        "            sys.stdin.readline()\n"
        "        (folder / f'part{n}.csv').write_text('x' * 100000)\n"
        "    if int(sys.argv[2]) == 5:\n"
        "        print('pause', flush=True)\n"
        "        sys.stdin.readline()\n"
        "publish(Path(sys.argv[1]), 'tuee', write, 5, print)\n"
    )
    for moment in (1, 3, 5):
        child = subprocess.Popen([sys.executable, "-c", harness, str(outputs), str(moment)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "pause\n"
        with pytest.raises(LockBusy) as busy:  # meanwhile, another publication is told who holds the lock
            publish(outputs, "autre", lambda folder: None, 0.5, lambda holder: None)
        assert (busy.value.holder.run_id, busy.value.holder.pid) == ("tuee", child.pid)
        child.kill()
        child.wait()
        assert verified_manifest(outputs).run_id == "precedente"
        assert (outputs / "a.csv").read_text() == "précédente\n"
    waited = []
    publish(outputs, "suivante", lambda folder: (folder / "b.csv").write_text("suivante\n"), 5, waited.append)
    assert not waited
    assert verified_manifest(outputs).run_id == "suivante" and not (outputs / "a.csv").exists()
    _assert_tidy(outputs)


def test_a_folder_from_before_the_versions_becomes_the_link_and_its_files_are_kept(tmp_path):
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    (outputs / "README.md").write_text("notes de l'équipe\n")
    publish(outputs, "premiere", lambda folder: (folder / "a.csv").write_text("a\n"), 5, print)
    assert outputs.is_symlink() and verified_manifest(outputs).run_id == "premiere"
    legacy = versions_folder(outputs) / "legacy"
    assert (legacy / "README.md").read_text() == "notes de l'équipe\n"
    publish(outputs, "seconde", lambda folder: (folder / "a.csv").write_text("b\n"), 5, print)
    assert (outputs / "a.csv").read_text() == "b\n" and (legacy / "README.md").exists()


def test_egn_run_killed_while_publishing_leaves_a_whole_set_and_the_next_run_equals_a_clean_one(clean, tmp_path,
                                                                                              monkeypatch):
    """The team's check: SIGKILL `egn run` in the middle of its publication."""
    raw_a, clean_outputs, cache = clean
    raw, outputs, home = _raw(tmp_path / "raw", SET_B), tmp_path / "outputs", _home(tmp_path / "home")
    _finish(_egn(raw, outputs, cache, home))
    before = _assert_whole(outputs)

    shutil.copy(CORPUS / SET_A[-1], raw / SET_A[-1])  # now the same inputs as the clean run
    killed = _egn(raw, outputs, cache, home)
    _wait_for_publication_to_start(outputs, killed)
    killed.kill()
    killed.communicate()
    assert _assert_whole(outputs)["run_id"] == before["run_id"]

    out, _ = _finish(_egn(raw, outputs, cache, home, "--attente", "5"))
    assert "marquée en échec" in out and "attente" not in out
    assert _assert_whole(outputs)["run_id"] != before["run_id"]
    assert _tables(outputs) == _tables(clean_outputs)
    _assert_tidy(outputs)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(_run_id(instance, killed.pid)).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info(POOL).active_run_ids


def _run_id(instance: dg.DagsterInstance, pid: int) -> str:
    return next(run.run_id for run in instance.get_runs() if run.tags.get(PID_TAG) == str(pid))


def test_sigterm_during_extraction_and_during_publication_stops_within_seconds(clean, tmp_path):
    _, _, warm = clean
    cache = tmp_path / "cache"
    shutil.copytree(warm, cache)
    raw, outputs, home = _raw(tmp_path / "raw", SET_B), tmp_path / "outputs", _home(tmp_path / "home")
    _finish(_egn(raw, outputs, cache, home))
    before = _assert_whole(outputs)

    # During publication.
    shutil.copy(CORPUS / SET_A[-1], raw / SET_A[-1])
    stopped = _egn(raw, outputs, cache, home)
    _wait_for_publication_to_start(outputs, stopped)
    assert _stop(stopped, signal.SIGTERM) < STOP_WITHIN
    assert stopped.returncode == 130
    assert _assert_whole(outputs)["run_id"] == before["run_id"]
    _assert_tidy(outputs)  # its unfinished folder is gone already

    # During extraction: two new files parsed by two extraction processes.
    _raw(raw, NEW_PDFS)
    stopped = _egn(raw, outputs, cache, home, EGN_WORKERS="2")
    server = _children_when_parsing(stopped)
    assert _stop(stopped, signal.SIGTERM) < STOP_WITHIN
    assert stopped.returncode == 130
    assert _gone_within(server, STOP_WITHIN)  # no extraction process left behind
    assert _assert_whole(outputs)["run_id"] == before["run_id"]

    out, err = _finish(_egn(raw, outputs, cache, home, "--attente", "5"))
    assert "attente" not in out and err == ""
    assert _sources(outputs) == set(SET_A + NEW_PDFS)
    _assert_whole(outputs)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except OSError:
        return []


def _gone_within(server: int, seconds: float) -> bool:
    """Whether the extraction processes' server has no child left within
    `seconds`: one started as the run stopped ends when its pipe closes."""
    end = time.monotonic() + seconds
    while Path(f"/proc/{server}").exists() and _children(server):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def _children_when_parsing(process: subprocess.Popen) -> int:
    """The extraction processes' server, once it has started them (the run is parsing)."""
    while True:
        assert process.poll() is None, process.communicate()
        for child in _children(process.pid):
            if _children(child):
                return child
        time.sleep(0.01)


def test_a_live_run_holding_the_outputs_is_named_waited_for_asleep_and_with_a_bound(clean, tmp_path, monkeypatch):
    raw_a, _, cache = clean
    outputs, home = tmp_path / "outputs", _home(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    # A run of the UI in the middle of its publication: it holds the pool's slot, its process (this one) lives.
    holder = dg.DagsterRun(job_name="publication_job", run_id="0badc0de-0000-4000-8000-000000000000",
                           status=dg.DagsterRunStatus.STARTED, tags=process_tags())
    with dg.DagsterInstance.get() as instance:
        instance.add_run(holder)
        instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)  # as a run's first claim does
        assert instance.event_log_storage.claim_concurrency_slot(POOL, holder.run_id, "publication").is_claimed

    out, err = _finish(_egn(raw_a, outputs, cache, home, "--attente", "2"), code=75)
    assert "Les sorties sont en cours de publication par l'exécution 0badc0de" in out
    assert err.count("\n") == 1 and "toujours occupées par l'exécution 0badc0de" in err
    assert not outputs.exists()

    waiting = _egn(raw_a, outputs, cache, home)
    assert "attente de sa fin" in waiting.stdout.readline()
    cpu = _cpu_seconds(waiting.pid)
    time.sleep(3)
    assert _cpu_seconds(waiting.pid) - cpu < 1  # asleep: a spinning wait would use the whole 3 s
    assert _stop(waiting, signal.SIGTERM) < STOP_WITHIN
    assert waiting.returncode == 130

    # The holder's process disappears without a word (as with SIGKILL): the next run frees its slot itself.
    with dg.DagsterInstance.get() as instance:
        instance.add_run_tags(holder.run_id, {PID_TAG: str(waiting.pid)})  # a process that no longer exists
    out, _ = _finish(_egn(raw_a, outputs, cache, home, "--attente", "5"))
    assert "0badc0de avait été arrêtée de force" in out and "attente de sa fin" not in out
    _assert_whole(outputs)
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(holder.run_id).status == dg.DagsterRunStatus.FAILURE


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small tmpfs")
def test_a_full_disk_keeps_the_previous_set_whole(clean, tmp_path):
    raw_a, _, cache = clean
    raw_b = _raw(tmp_path / "raw_b", SET_B)
    disk, after = tmp_path / "disk", tmp_path / "after"
    disk.mkdir()
    fill = ("import os, sys; s = os.statvfs(sys.argv[1]); "
            "open(os.path.join(sys.argv[1], 'remplissage'), 'wb').write(b'0' * (s.f_bavail * s.f_frsize - 300_000))")
    egn = f"{sys.executable} -m assets.cli run --outputs {disk}/out --raw"
    script = (f"mount -t tmpfs -o size=12m tmpfs {disk} || exit 90\n"
              f"{egn} {raw_a} || exit 91\n"
              f"cp {disk}/out/{MANIFEST} {tmp_path}/first.json\n"
              f"{sys.executable} -c \"{fill}\" {disk}\n"
              f"{egn} {raw_b} 2> {tmp_path}/stderr\n"
              f"echo $? > {tmp_path}/code\n"
              f"cp -rL {disk}/out {after}\n"
              f"ls -A {versions_folder(disk / 'out')} > {tmp_path}/versions\n")
    completed = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                               capture_output=True, text=True, timeout=600,
                               env={"PATH": os.environ.get("PATH", ""), "EGN_CACHE_DIR": str(cache)})
    if completed.returncode == 90:
        pytest.skip("cannot mount a tmpfs here: " + completed.stderr)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "code").read_text().strip() == "1"
    message = (tmp_path / "stderr").read_text()
    assert message.count("\n") == 1 and message.startswith("Plus de place sur le disque"), message
    first = json.loads((tmp_path / "first.json").read_text())
    assert _assert_whole(after)["run_id"] == first["run_id"]
    assert _sources(after) == set(SET_A)
    # The unfinished folder was removed when the write failed: the published one and the lock remain.
    published, lock = sorted((tmp_path / "versions").read_text().split())
    assert lock == "lock" and published.endswith(first["run_id"][:8])


# ----------------------------------------------------------------------------
# Concurrent runs
# ----------------------------------------------------------------------------


def test_two_runs_on_different_inputs_publish_one_after_the_other(clean, tmp_path):
    """Same DAGSTER_HOME, same outputs, 1.5 s apart: one waits for the other
    and says so; both exit 0; the folder is one whole set, the last one's."""
    _, _, cache = clean
    raw_a, raw_b = _raw(tmp_path / "a", SET_A), _raw(tmp_path / "b", SET_B)
    outputs, home = tmp_path / "outputs", _home(tmp_path / "home")
    first = _egn(raw_a, outputs, cache, home)
    time.sleep(1.5)
    second = _egn(raw_b, outputs, cache, home)
    outs = [_finish(first), _finish(second)]
    waited = [n for n, (out, err) in enumerate(outs) if "Une autre commande egn run utilise déjà" in out]
    assert len(waited) == 1 and all(err == "" for _, err in outs)
    _assert_whole(outputs)
    assert _sources(outputs) == set([SET_A, SET_B][waited[0]])  # the one that waited published last
    _assert_tidy(outputs)
