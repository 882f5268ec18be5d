"""Hostile and broken input: nothing lost, nothing let in. Every case is a
real file on disk. (Killed, stopped and concurrent runs: test_publication.py.)"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pypdfium2
import pytest
from conftest import CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import minimal_pdf

import pipeline.ingest.process as process
from assets.partitions import partition_key
from pipeline.contract import DOCUMENT_REASONS
from pipeline.ingest.process import process_file


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
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>" for _ in range(n)]
    kids = " ".join(f"{i} 0 R" for i in range(3, 3 + n)).encode()
    path = tmp_path / "enorme.pdf"
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    path.write_bytes(minimal_pdf([catalog, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n, *pages]))
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "too_large")


def test_pdf_tables_without_ruling_lines_do_not_crash(tmp_path):
    text = (b"BT /F1 11 Tf 60 780 Td (DSDEN de la Sarthe) Tj 0 -40 Td "
            b"(Thematique concernee   RETEX   Irritants   Points forts) Tj ET")
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
