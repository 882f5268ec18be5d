"""Hostile and broken input, crashes and concurrent runs: nothing lost,
nothing let in. Every case is a real file on disk."""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pypdfium2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pipeline.process as process
from conftest import CORPUS
from pipeline.contract import DOCUMENT_REASONS
from pipeline.process import process_file
from assets.partitions import partition_key
from support import minimal_pdf



def _rewrite_docx(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for member in original.infolist():
            data = change(member.filename, original.read(member))
            if data is not None:
                out.writestr(member, data)
    return target


def test_docx_declaring_external_and_expanding_entities_is_refused_unread(tmp_path):
    dtd = (b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
           b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')

    def change(name, data):
        if name != "word/document.xml":
            return data
        head, rest = data.split(b"?>", 1)
        return head + b"?>" + dtd + rest.replace(b"DSDEN de la Sarthe", b"&xxe; &c;", 1)

    path = _rewrite_docx(CORPUS / "sarthe-72.docx", tmp_path / "entites.docx", change)
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "corrupt")
    assert "DTD" in result.message and "root:" not in result.message


def test_pdf_whose_page_tree_loops_is_rejected(tmp_path):
    path = tmp_path / "boucle.pdf"
    path.write_bytes(minimal_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                           b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]))
    result = process_file(path, tmp_path)
    assert result.status == "rejected" and result.reason in DOCUMENT_REASONS


def test_pdf_with_a_huge_page_count_is_too_large(tmp_path):
    n = 600  # above the reader's limit of 500 pages
    pages = ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".encode() for _ in range(n)]
    kids = " ".join(f"{i} 0 R" for i in range(3, 3 + n)).encode()
    path = tmp_path / "enorme.pdf"
    path.write_bytes(minimal_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n, *pages]))
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "too_large")


def test_pdf_tables_without_ruling_lines_do_not_crash(tmp_path):
    text = b"BT /F1 11 Tf 60 780 Td (DSDEN de la Sarthe) Tj 0 -40 Td (Thematique concernee   RETEX   Irritants   Points forts) Tj ET"
    path = tmp_path / "sans_traits.pdf"
    path.write_bytes(minimal_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "not_a_restitution")


@pytest.mark.parametrize("name", [
    "Trame de restitution « EGN » 72 – l'été.docx",
    'Trame "72" (copie).docx',
    "dossier/" + "restitution_tres_longue_" * 9 + ".docx",
])
def test_awkward_file_names_are_kept_exactly(tmp_path, name):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((CORPUS / "sarthe-72.docx").read_bytes())
    result = process_file(path, tmp_path)
    assert result.status == "ok" and result.source_file == name
    assert partition_key(name) == name


def _small_pdf(tmp_path: Path) -> bytes:
    """The first four pages of the Sarthe PDF: intro and diagnostic tables, fast to parse."""
    source = pypdfium2.PdfDocument(str(CORPUS / "sarthe-72.pdf"))
    small = pypdfium2.PdfDocument.new()
    small.import_pages(source, [0, 1, 2, 3])
    buffer = io.BytesIO()
    small.save(buffer)
    return buffer.getvalue()


MUTATIONS = st.sampled_from(["flip", "truncate", "drop_member", "shuffle_xml", "zero_run"])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    return {"docx": (CORPUS / "sarthe-72.docx").read_bytes(), "pdf": _small_pdf(folder)}


def _mutate(data: bytes, kind: str, mutation: str, rng: random.Random) -> bytes:
    if mutation == "flip":
        data = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if mutation == "truncate":
        return data[: rng.randrange(len(data))]
    if mutation == "zero_run":
        start = rng.randrange(len(data))
        return data[:start] + b"\x00" * rng.randint(1, 4096) + data[start + 1:]
    if kind == "pdf":  # zip mutations make no sense for a PDF: cut a random slice instead
        start = rng.randrange(len(data))
        return data[:start] + data[start + rng.randint(1, 2048):]
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(buffer, "w") as out:
        members = original.infolist()
        dropped = rng.choice(members).filename if mutation == "drop_member" else None
        for member in members:
            content = original.read(member)
            if member.filename == dropped:
                continue
            if mutation == "shuffle_xml" and member.filename == "word/document.xml":
                pieces = content.split(b"<w:p>")
                rng.shuffle(pieces)
                content = b"<w:p>".join(pieces)
            out.writestr(member, content)
    return buffer.getvalue()


def _fuzz_case(seeds, folder: Path, kind: str, mutation: str, seed: int) -> None:
    path = folder / f"fuzz-{seed}.{kind}"
    path.write_bytes(_mutate(seeds[kind], kind, mutation, random.Random(seed)))
    result = process_file(path, folder)
    assert result.status in ("ok", "partial", "rejected")
    if result.status != "ok":
        assert result.reason in DOCUMENT_REASONS and result.message
    path.unlink()


CASES = dict(kind=st.sampled_from(["docx", "pdf"]), mutation=MUTATIONS, seed=st.integers(0, 2**32 - 1))
FUZZ_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)


@settings(max_examples=200, **FUZZ_SETTINGS)
@given(**CASES)
def test_fuzzed_documents_never_escape_the_per_file_boundary(seeds, tmp_path, monkeypatch, kind, mutation, seed):
    monkeypatch.setattr(process, "MAX_SECONDS_PER_FILE", 30)
    _fuzz_case(seeds, tmp_path, kind, mutation, seed)


@pytest.mark.fuzz
@settings(max_examples=2000, **{**FUZZ_SETTINGS, "derandomize": False})
@given(**CASES)
def test_long_fuzz_campaign(seeds, tmp_path, monkeypatch, kind, mutation, seed):
    """2,000 fresh cases: `pytest -m fuzz` (run by .ci/run after the suite)."""
    monkeypatch.setattr(process, "MAX_SECONDS_PER_FILE", 30)
    _fuzz_case(seeds, tmp_path, kind, mutation, seed)


WRITER = """
import sys, pandas as pd
from pathlib import Path
from pipeline.export import write_tables
out = Path(sys.argv[1])
i = 0
while True:
    i += 1
    rows = [dict(item_id=f"{i}-{n}", document_id=str(i), departement_code="72", section="diagnostic",
                 theme="acces", theme_raw="", role="irritant", text="x" * 200, category=None, categories=[],
                 category_score=None, page=None, table_index=0, row_index=n, category_source="model",
                 needs_review=False) for n in range(20000)]
    write_tables(out, {"items": pd.DataFrame(rows)})
    print(i, flush=True)
"""


def test_a_run_killed_while_writing_leaves_the_previous_complete_files(tmp_path):
    outputs = tmp_path / "outputs"
    for attempt in range(5):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(outputs)], stdout=subprocess.PIPE, text=True)
        child.stdout.readline()  # at least one complete file exists
        time.sleep(random.Random(attempt).uniform(0.05, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        with (outputs / "items.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == 20000 and len({row["document_id"] for row in rows}) == 1
    from pipeline.export import write_tables
    import pandas as pd
    write_tables(outputs, {"items": pd.DataFrame(rows)})  # the next run completes and tidies up
    assert not list(outputs.glob(".*.tmp"))


def test_tidying_up_never_takes_another_run_s_live_write_for_a_leftover(tmp_path, monkeypatch):
    """The race CI once hit: run B's clean-up deleted run A's temporary file before A renamed it."""
    from pipeline.export import write_atomic_bytes, write_tables

    mid_write, resume = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def fsync_pausing_the_writer(fd):
        if threading.current_thread().name == "run-a":
            mid_write.set()
            resume.wait(30)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_pausing_the_writer)
    run_a = threading.Thread(target=write_atomic_bytes, args=(tmp_path / "synthese.xlsx", b"run a"), name="run-a")
    run_a.start()
    assert mid_write.wait(30)
    run_b = threading.Thread(target=write_tables, args=(tmp_path, {}), name="run-b")
    run_b.start()
    run_b.join(0.5)
    assert run_b.is_alive() and len(list(tmp_path.glob(".synthese.xlsx.*.tmp"))) == 1  # B waits, A's file stays
    resume.set()
    run_a.join(30)
    run_b.join(30)
    assert (tmp_path / "synthese.xlsx").read_bytes() == b"run a"
    assert not list(tmp_path.glob(".*.tmp"))


def test_two_runs_at_the_same_time_both_finish_with_whole_files(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("sarthe-72.docx", "Trame de restitution EGN 45.docx", "restitution_EGN_05_protege.pdf"):
        (raw / name).write_bytes((CORPUS / name).read_bytes())
    env = {"PATH": "", "EGN_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "assets.cli", "run", "--raw", str(raw), "--outputs", str(tmp_path / "out")]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    with (tmp_path / "out" / "documents.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert not list((tmp_path / "out").glob(".*.tmp"))
