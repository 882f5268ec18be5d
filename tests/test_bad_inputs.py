"""Every bad-input reason of the contract, on real and generated files.

Each file must come back as a result (never an exception) with the
contract's reason and a French message; the run goes on with the others.
"""

from __future__ import annotations

import shutil
import zipfile

import pytest
from conftest import CORPUS
from make_docx import restitution
from support import minimal_pdf

from pipeline.ingest.process import process_file


@pytest.mark.parametrize(
    "name, reason",
    [
        ("restitution_EGN_05_protege.pdf", "encrypted"),
        ("Trame_restitution_EGN_DSDEN64.pdf", "corrupt"),  # truncated
        ("notes_atelier_EGN.docx", "corrupt"),  # plain text named .docx
        ("restitution_egn_sans_titre.pdf", "empty"),
        ("Courrier_IA-DASEN_EGN_82.docx", "not_a_restitution"),
        ("Trame de restitution EGN 45.docx", "missing_sections"),
    ],
)
def test_corpus_bad_inputs(name, reason):
    result = process_file(CORPUS / name, CORPUS)
    assert result.reason == reason, result.message
    assert result.status == ("partial" if reason == "missing_sections" else "rejected")
    assert result.message and result.document_id


def test_encrypted_word_document(tmp_path):
    # Word saves a password-protected .docx as an OLE container with an EncryptedPackage stream.
    path = tmp_path / "protege.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512)
    assert process_file(path, tmp_path).reason == "encrypted"


def test_truncated_docx_is_corrupt(tmp_path):
    source = restitution(tmp_path / "full.docx")
    path = tmp_path / "tronque.docx"
    path.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    assert process_file(path, tmp_path).reason == "corrupt"


def test_whitespace_only_file_is_empty(tmp_path):
    path = tmp_path / "vide.pdf"
    path.write_bytes(b"   \n\n  ")
    assert process_file(path, tmp_path).reason == "empty"


def test_pdf_without_pages_has_no_text(tmp_path):
    path = tmp_path / "blanc.pdf"
    # A valid PDF whose only page carries no text at all.
    path.write_bytes(minimal_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]))
    assert process_file(path, tmp_path).reason == "no_text_layer"


def test_old_word_format_and_other_extensions_are_unsupported(tmp_path):
    doc = tmp_path / "ancien.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048)
    txt = tmp_path / "notes.txt"
    txt.write_text("Compte rendu de l'atelier", encoding="utf-8")
    assert process_file(doc, tmp_path).reason == "unsupported_format"
    assert process_file(txt, tmp_path).reason == "unsupported_format"


def test_zip_bomb_is_refused_from_its_directory(tmp_path):
    source = restitution(tmp_path / "ok.docx")
    bomb = tmp_path / "bombe.docx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for member in original.infolist():
            out.writestr(member, original.read(member))
        out.writestr("word/media/padding.bin", b"\x00" * (300 * 1024 * 1024))
    assert bomb.stat().st_size < 2 * 1024 * 1024
    result = process_file(bomb, tmp_path)
    assert result.reason == "too_large", result.message


def test_extension_that_lies_is_read_by_content(tmp_path):
    shutil.copy(CORPUS / "sarthe-72.pdf", tmp_path / "sarthe-72.docx")
    result = process_file(tmp_path / "sarthe-72.docx", tmp_path)
    assert (result.status, result.format) == ("ok", "pdf")


def test_a_rejected_file_names_the_departement_its_name_points_to(tmp_path):
    """A password-protected PDF cannot be opened, but its name says which
    DSDEN sent it: the French message says so (documents.csv keeps its
    département columns empty, a guess is not a reading)."""
    source = CORPUS / "restitution_EGN_05_protege.pdf"
    (tmp_path / source.name).write_bytes(source.read_bytes())
    result = process_file(tmp_path / source.name, tmp_path)
    assert (result.status, result.reason) == ("rejected", "encrypted")
    assert "Département supposé d'après le nom du fichier : Hautes-Alpes (05)." in result.message
    assert result.restitution is None


def test_a_corrupt_file_message_names_no_internal_exception(tmp_path):
    """What an analyst reads says what is wrong with the file, never the
    parser's exception class (it stays in the log)."""
    source = CORPUS / "sarthe-72.pdf"
    (tmp_path / "sarthe-72.pdf").write_bytes(source.read_bytes()[: 4000])
    result = process_file(tmp_path / "sarthe-72.pdf", tmp_path)
    assert (result.status, result.reason) == ("rejected", "corrupt")
    assert "Sarthe (72)" in result.message
    assert not any(name in result.message for name in ("PSEOF", "Error", "Exception", "KeyError"))
