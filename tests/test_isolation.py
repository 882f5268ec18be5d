"""Every file isolated (issue 15): bounded memory, a crash costs one file,
what is cached is what was read, keys that cannot collide, links that are
not followed, duplicates set aside, versions that follow the code.
Every case is a real file on disk, run through the real pipeline."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import dagster as dg
import pytest
from conftest import CORPUS
from support import minimal_pdf

from assets.cli import materialize_all
from assets.resources import Progress, resources
from pipeline.batch import CLASSIFICATION, EXTRACTION
from pipeline.ingest.intake import MAX_ZIP_MEMBERS
from pipeline.ingest.isolation import parse_in_processes
from pipeline.ingest.process import OUT_OF_MEMORY_MESSAGE, process_file
from pipeline.ingest.readers.pdf_reader import MAX_STREAM_BYTES
from pipeline.ingest.sources import partition_key, relative_path_of
from pipeline.publish.folders import versions_folder

PROJECT = Path(__file__).resolve().parent.parent


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_page_pdf(content: bytes, flate: bool = False) -> bytes:
    stream_filter = b" /Filter /FlateDecode" if flate else b""
    return minimal_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), stream_filter) + content + b"\nendstream",
    ])


def _flate_bomb(inflated: int) -> bytes:
    """A one-page PDF whose content stream inflates to `inflated` bytes of spaces."""
    compressor, chunk = zlib.compressobj(9), b" " * (1 << 24)
    deflated = b"".join(compressor.compress(chunk) for _ in range(inflated // len(chunk))) + compressor.flush()
    return _one_page_pdf(deflated, flate=True)


# 1. Memory ------------------------------------------------------------------

# The peak of this process's own memory (VmHWM starts afresh at exec, where
# ru_maxrss keeps the high-water mark of the forked test process).
BOMB_PEAK = """
import re, sys
from pathlib import Path
from pipeline.ingest.process import process_file
result = process_file(Path(sys.argv[1]), Path(sys.argv[1]).parent)
peak_kib = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print(result.reason, int(peak_kib) // 1024)
"""


def test_a_flate_bomb_is_too_large_and_never_inflated(tmp_path):
    bomb = tmp_path / "bombe.pdf"
    bomb.write_bytes(_flate_bomb(4 * MAX_STREAM_BYTES))  # 256 MiB of spaces in 250 kB
    assert bomb.stat().st_size < 1_000_000
    completed = subprocess.run([sys.executable, "-c", BOMB_PEAK, str(bomb)], capture_output=True, text=True,
                               timeout=300, cwd=PROJECT)
    reason, peak_mib = completed.stdout.split()
    assert reason == "too_large"
    assert int(peak_mib) < 400  # the process never held the inflated stream (the file: 4.3 GB)


def test_a_file_that_needs_more_memory_than_a_worker_has_is_too_large_and_its_sibling_is_read(tmp_path):
    shutil.copy(CORPUS / "sarthe-72.pdf", tmp_path / "gourmand.pdf")
    shutil.copy(CORPUS / "sarthe-72.docx", tmp_path / "voisin.docx")
    # A worker allowed 4 MiB beyond its start cannot lay out a 20-page PDF.
    outcomes = dict(parse_in_processes([tmp_path / "gourmand.pdf"], tmp_path, workers=1, memory_growth=4 << 20))
    result = outcomes[tmp_path / "gourmand.pdf"]
    assert (result.status, result.reason, result.message) == ("rejected", "too_large", OUT_OF_MEMORY_MESSAGE)
    sibling = dict(parse_in_processes([tmp_path / "voisin.docx"], tmp_path, workers=1))[tmp_path / "voisin.docx"]
    assert sibling.status == "ok"


# 2. A worker that dies --------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _first_worker(run: subprocess.Popen) -> int:
    """The first extraction process the run forks (from its fork server)."""
    while run.poll() is None:
        for child in _children(run.pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in command and (workers := _children(child)):
                return min(workers)
        time.sleep(0.05)
    raise AssertionError("the run ended before any extraction process started")


def test_a_killed_worker_costs_its_own_file_only_and_that_outcome_is_kept(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    # A valid PDF that takes pdfminer a long time (millions of no-op operators),
    # and the largest file, so the first process forked is the one reading it.
    (raw / "lent.pdf").write_bytes(_one_page_pdf(b"q Q\n" * 2_000_000))
    for name in ("sarthe-72.docx", "Trame de restitution EGN 45.docx"):
        shutil.copy(CORPUS / name, raw / name)
    env = {"PATH": "", "EGN_CACHE_DIR": str(tmp_path / "cache"), "EGN_WORKERS": "1"}
    command = [sys.executable, "-m", "assets.cli", "run", "--raw", str(raw), "--outputs", str(tmp_path / "out")]
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT)
    os.kill(_first_worker(run), signal.SIGKILL)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    documents = {row["source_file"]: row for row in _read(tmp_path / "out" / "documents.csv")}
    killed = documents["lent.pdf"]
    assert (killed["status"], killed["reason"]) == ("rejected", "corrupt")
    assert "Le lecteur s'est arrêté" in killed["message"] and "SIGKILL" in killed["message"]
    assert killed["document_id"] == _sha(raw / "lent.pdf")[:16]
    assert documents["sarthe-72.docx"]["status"] == "ok"
    assert documents["Trame de restitution EGN 45.docx"]["status"] == "partial"
    # Cached like any other outcome: the next run does not read it again.
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT)
    assert again.returncode == 0, again.stderr
    assert "3 fichier(s) inchangé(s)" in again.stdout


# 3. Files that move or change during a run -----------------------------------

class ChangingFolder(Progress):
    """Once the first file is read, moves one file of the run and overwrites
    another: both were listed and hashed, neither is read yet."""

    moved: str
    moved_to: str
    overwritten: str
    new_content: str

    def document(self, index, total, result, reused=False) -> None:
        if index == 1:
            os.rename(self.moved, self.moved_to)
            Path(self.overwritten).write_bytes(Path(self.new_content).read_bytes())


def test_files_moved_or_overwritten_during_extraction_leave_nothing_wrong_in_the_cache(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(CORPUS / "sarthe-72.docx", raw / "a-lire-en-premier.docx")  # the largest: read first
    moved, overwritten = raw / "deplace.docx", raw / "ecrase.docx"
    shutil.copy(CORPUS / "Trame de restitution EGN 45.docx", moved)
    shutil.copy(CORPUS / "01_restitution_etats_generaux_numerique_VF.docx", overwritten)
    old_moved, old_overwritten = _sha(moved), _sha(overwritten)
    new_content = CORPUS / "EGNum_Ille_et_vilaine_synthese_def.docx"
    monkeypatch.setenv("EGN_WORKERS", "1")
    chosen = resources(str(raw), str(tmp_path / "out"), str(tmp_path / "cache"))
    chosen["progress"] = ChangingFolder(moved=str(moved), moved_to=str(raw / "ailleurs.docx"),
                                        overwritten=str(overwritten), new_content=str(new_content))
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(chosen, instance).success
    cache = chosen["result_store"].cache
    # The vanished file: no outcome recorded, no failure cached under its content.
    assert cache.recorded("deplace.docx") is None
    assert cache.get(EXTRACTION, old_moved) is None and cache.get(CLASSIFICATION, old_moved) is None
    # The overwritten file: cached under the bytes that were read, never the old hash.
    assert cache.get(EXTRACTION, old_overwritten) is None
    assert cache.recorded("ecrase.docx")["sha256"] == _sha(new_content)
    documents = {row["source_file"]: row for row in _read(tmp_path / "out" / "documents.csv")}
    assert documents["ecrase.docx"]["document_id"] == _sha(new_content)[:16]
    assert documents["ecrase.docx"]["departement_code"] == "35"
    # The next run reads the moved file where it now is.
    chosen["progress"] = Progress()
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(chosen, instance).success
    documents = {row["source_file"]: row for row in _read(tmp_path / "out" / "documents.csv")}
    assert (documents["ailleurs.docx"]["status"], documents["ailleurs.docx"]["departement_code"]) == ("partial", "45")


# 5, 6, 7, 9. Names, links, duplicates, first-seen times ----------------------

NON_UTF8 = os.fsdecode(b"restitution-\xe9t\xe9.docx")  # Latin-1 bytes: not a UTF-8 name


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory):
    base = tmp_path_factory.mktemp("odd")
    raw, outside = base / "raw", base / "ailleurs"
    raw.mkdir()
    outside.mkdir()
    copies = {
        "sarthe-72.docx": "sarthe-72.docx",
        "sarthe-72 (1).docx": "sarthe-72.docx",  # a byte-identical copy
        "new\nline.docx": "Trame de restitution EGN 45.docx",
        "new_line.docx": "EGNum_Ille_et_vilaine_synthese_def.docx",
        "100 % numérique....docx": "01_restitution_etats_generaux_numerique_VF.docx",
    }
    for name, source in copies.items():
        shutil.copy(CORPUS / source, raw / name)
    shutil.copy(CORPUS / "EGNum_Bouches_du_rhone_synthese_def.docx", os.path.join(raw, NON_UTF8))
    shutil.copy(CORPUS / "Courrier_IA-DASEN_EGN_82.docx", outside / "hors-dossier.docx")
    (raw / "lien-dehors.docx").symlink_to(outside / "hors-dossier.docx")
    (raw / "passwd.docx").symlink_to("/etc/passwd")
    (raw / "dossier-dehors").symlink_to(outside, target_is_directory=True)
    chosen = resources(str(raw), str(base / "out"), str(base / "cache"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_all(chosen, instance)
        keys = instance.get_dynamic_partitions("fichiers")
    documents = {row["source_file"]: row for row in _read(base / "out" / "documents.csv")}
    return result, raw, keys, documents, chosen, base


def test_odd_names_links_and_copies_never_fail_the_run(odd_folder):
    result, *_ = odd_folder
    assert result.success


def test_every_name_has_its_own_reversible_key(odd_folder):
    _, raw, keys, documents, _, _ = odd_folder
    names = {os.path.relpath(os.path.join(folder, name), raw)
             for folder, dirs, files in os.walk(raw) for name in [*dirs, *files]}
    assert len(keys) == len(set(keys)) == len(names) == 9
    assert {relative_path_of(key) for key in keys} == names
    assert documents["new\nline.docx"]["departement_code"] == "45"
    assert documents["new_line.docx"]["departement_code"] == "35"
    assert documents["100 % numérique....docx"]["status"] == "ok"


@pytest.mark.parametrize("name", ["a...b", "%41", "new\nline", "tab\there", NON_UTF8, "x%2E..docx", "é…"])
def test_partition_keys_are_reversible_and_acceptable_to_dagster(name):
    key = partition_key(name)
    assert relative_path_of(key) == name
    assert "..." not in key and not any(ord(c) < 32 for c in key)
    key.encode("utf-8")


def test_a_name_that_is_not_text_is_quarantined_with_its_reason(odd_folder):
    _, _, _, documents, _, _ = odd_folder
    row = documents["restitution-%E9t%E9.docx"]
    assert (row["status"], row["reason"], row["document_id"]) == ("rejected", "unsupported_format", "")
    assert "renommez le fichier" in row["message"]


def test_links_out_of_the_raw_folder_are_listed_and_never_followed(odd_folder):
    _, _, _, documents, _, _ = odd_folder
    for name in ("lien-dehors.docx", "passwd.docx", "dossier-dehors"):
        row = documents[name]
        assert (row["status"], row["reason"], row["document_id"]) == ("rejected", "unsupported_format", "")
        assert "lien symbolique" in row["message"] and "hors du dossier source" in row["message"]
    assert not any(row["departement_code"] == "82" for row in documents.values())  # the target was never read


def test_a_byte_identical_copy_is_a_duplicate_naming_the_file_read(odd_folder):
    _, raw, _, documents, _, base = odd_folder
    original, copy = documents["sarthe-72.docx"], documents["sarthe-72 (1).docx"]
    assert original["status"] == "ok" and original["document_id"] == _sha(raw / "sarthe-72.docx")[:16]
    assert (copy["status"], copy["reason"], copy["document_id"]) == ("rejected", "duplicate", "")
    assert "« sarthe-72.docx »" in copy["message"]
    quarantined = {row["source_file"]: row for row in _read(base / "out" / "quarantine.csv")}
    assert quarantined["sarthe-72 (1).docx"]["reason"] == "duplicate"
    items = _read(base / "out" / "items.csv")
    assert len({row["item_id"] for row in items}) == len(items)


def test_first_seen_times_survive_the_outputs_folder(odd_folder):
    _, _, _, documents, chosen, base = odd_folder
    (base / "out").unlink()  # the link to the published set, and every version behind it
    shutil.rmtree(versions_folder(base / "out"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_all(chosen, instance).success
    again = {row["source_file"]: row["ingested_at"] for row in _read(base / "out" / "documents.csv")}
    assert again == {name: row["ingested_at"] for name, row in documents.items()}


# 4. Versions that follow the code --------------------------------------------

CACHE_ROUND = """
import sys
from pathlib import Path
from pipeline.ingest.cache import ResultCache
from pipeline.model import DocumentResult
cache = ResultCache(Path(sys.argv[1]))
if sys.argv[2] == "put":
    for stage in ("extraction", "classification"):
        cache.put(stage, "ab" * 32, DocumentResult("ab" * 8, "x.docx", "docx", "ok", None, ""))
else:
    print(*(cache.get(stage, "ab" * 32) is not None for stage in ("extraction", "classification")))
"""


def test_an_edit_to_a_parser_module_or_the_contract_misses_the_cache(tmp_path):
    code = tmp_path / "code"
    shutil.copytree(PROJECT / "pipeline", code / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))

    def cached(cache: str) -> str:
        completed = subprocess.run([sys.executable, "-c", CACHE_ROUND, str(tmp_path / cache), "get"],
                                   capture_output=True, text=True, cwd=code, env={"PYTHONPATH": str(code)}, check=True)
        return completed.stdout.strip()

    def put(cache: str) -> None:
        subprocess.run([sys.executable, "-c", CACHE_ROUND, str(tmp_path / cache), "put"], cwd=code,
                       env={"PYTHONPATH": str(code)}, check=True)

    def edit(module: str) -> None:
        with (code / "pipeline" / module).open("a") as handle:
            handle.write("\n# an edit\n")

    put("cache")
    assert cached("cache") == "True True"
    edit("publish/report.py")  # read by neither stage
    assert cached("cache") == "True True"
    edit("ingest/parse/columns.py")  # a parser fix: re-read, and so re-classified
    assert cached("cache") == "False False"
    put("cache")
    edit("contract.py")  # imported by the parser
    assert cached("cache") == "False False"


def test_a_docx_of_too_many_zip_members_is_refused_from_its_end_record(tmp_path):
    path = tmp_path / "membres.docx"
    with zipfile.ZipFile(CORPUS / "sarthe-72.docx") as original, zipfile.ZipFile(path, "w") as out:
        for member in original.infolist():
            out.writestr(member, original.read(member))
        for n in range(MAX_ZIP_MEMBERS + 1):
            out.writestr(f"customXml/vide{n}.xml", b"")
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "too_large")
    assert "éléments" in result.message
