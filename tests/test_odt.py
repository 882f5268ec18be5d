"""OpenDocument text: the same layout model, and the same intake safety, as DOCX."""

from __future__ import annotations

import zipfile
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES

from pipeline.ingest.process import process_file
from pipeline.ingest.readers.odt_reader import read_odt
from pipeline.model import PageBreak, Paragraph, Table

GENERATED = FIXTURES / "generated"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:form="urn:oasis:names:tc:opendocument:xmlns:form:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
)


def write_odt(path: Path, body: str, automatic_styles: str = "", prolog: str = "",
              extra: dict[str, bytes] | None = None) -> Path:
    """An ODT package as LibreOffice lays it out: the mimetype first, stored."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<office:document-content {NAMESPACES}>'
               f"<office:automatic-styles>{automatic_styles}</office:automatic-styles>"
               f"<office:body><office:text>{body}</office:text></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODT_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content.encode())
        archive.writestr("styles.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {NAMESPACES}/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@cache
def _processed(path: Path):
    return process_file(path, path.parent)


def test_libreoffice_resave_of_a_docx_gives_the_same_restitution():
    docx = _processed(CORPUS / "sarthe-72.docx")
    odt = _processed(GENERATED / "sarthe-72.odt")
    assert (odt.status, odt.format) == ("ok", "odt")
    assert [(i.section, i.theme, i.role, i.text) for i in odt.items] == [
        (i.section, i.theme, i.role, i.text) for i in docx.items
    ]
    assert odt.restitution.meta == docx.restitution.meta
    assert odt.restitution.participants == docx.restitution.participants
    assert odt.restitution.actions == docx.restitution.actions
    assert not odt.ocr and odt.ocr_confidence is None


def test_spans_nested_tables_lists_headings_breaks_and_spacing(tmp_path):
    styles = ('<style:style style:name="Saut" style:family="paragraph" style:parent-style-name="Titre">'
              '<style:paragraph-properties fo:break-before="page"/></style:style>'
              '<style:style style:name="Apres" style:family="paragraph">'
              '<style:paragraph-properties fo:break-after="page"/></style:style>')
    body = (
        '<text:h text:outline-level="2">Diagnostic</text:h>'
        '<text:p>Dé\u00adbut<text:s text:c="3"/>mot<text:tab/>fin<text:line-break/>suite'
        '<text:note><text:note-body><text:p>note</text:p></text:note-body></text:note></text:p>'
        '<text:list><text:list-item><text:p>Premier</text:p>'
        '<text:list><text:list-item><text:p>Sous-puce</text:p></text:list-item></text:list>'
        '</text:list-item></text:list>'
        '<table:table><table:table-column table:number-columns-repeated="3"/>'
        '<table:table-header-rows><table:table-row>'
        '<table:table-cell table:number-columns-spanned="2"><text:p>Fusion</text:p></table:table-cell>'
        '<table:covered-table-cell/><table:table-cell><text:p>C</text:p></table:table-cell>'
        '</table:table-row></table:table-header-rows>'
        '<table:table-row><table:table-cell table:number-rows-spanned="2"><text:p>Haut</text:p></table:table-cell>'
        '<table:table-cell><table:table><table:table-row>'
        '<table:table-cell><text:p>Intérieur 1</text:p></table:table-cell>'
        '<table:table-cell><text:list><text:list-item><text:p>Intérieur 2</text:p></text:list-item></text:list>'
        '</table:table-cell></table:table-row></table:table></table:table-cell>'
        '<table:table-cell><text:p>X</text:p></table:table-cell></table:table-row>'
        '<table:table-row><table:covered-table-cell/>'
        '<table:table-cell table:number-columns-repeated="2"/></table:table-row>'
        '</table:table>'
        '<text:p text:style-name="Saut">Fiche</text:p>'
        '<text:p text:style-name="Apres">Fin de fiche</text:p>'
        '<office:forms><form:form><form:checkbox form:id="cb1" form:current-state="checked"/>'
        '<form:checkbox form:id="cb2"/></form:form></office:forms>'
        '<text:p><draw:control draw:control="cb1"/> Oui <draw:control draw:control="cb2"/> Non</text:p>'
    )
    layout = read_odt(write_odt(tmp_path / "s.odt", body, styles))
    blocks = layout.blocks
    paragraphs = [b for b in blocks if isinstance(b, Paragraph)]
    assert paragraphs[0].heading == 2 and paragraphs[0].text == "Diagnostic"
    assert [p.text for p in paragraphs[1:3]] == ["Début   mot fin", "suite"]  # soft hyphen, text:s, tab; no note
    assert not paragraphs[2].line.new_paragraph
    assert [(p.text, p.line.level) for p in paragraphs[3:5]] == [("Premier", 0), ("Sous-puce", 1)]
    table = next(b for b in blocks if isinstance(b, Table))
    assert [[c.text for c in row] for row in table.rows] == [
        ["Fusion", "", "C"],  # the covered cell is read once, as an empty cell
        ["Haut", "Intérieur 1\nIntérieur 2", "X"],  # the nested table joins its cell
        ["", "", ""],
    ]
    after_table = blocks[blocks.index(table) + 1:]
    assert isinstance(after_table[0], PageBreak) and after_table[1].text == "Fiche"
    assert after_table[2].text == "Fin de fiche" and isinstance(after_table[3], PageBreak)
    assert after_table[4].text == "☒ Oui ☐ Non"


def test_odt_declaring_entities_is_refused_unread(tmp_path):
    prolog = '<!DOCTYPE office:document-content [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    path = write_odt(tmp_path / "entites.odt", "<text:p>&xxe;</text:p>", prolog=prolog)
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "corrupt")
    assert "DTD" in result.message and "root:" not in result.message


def test_odt_zip_bomb_is_refused_from_its_directory(tmp_path):
    path = write_odt(tmp_path / "bombe.odt", "<text:p>Introduction</text:p>",
                     extra={"Pictures/padding.bin": b"\x00" * (300 * 1024 * 1024)})
    assert path.stat().st_size < 2 * 1024 * 1024
    result = process_file(path, tmp_path)
    assert (result.status, result.reason) == ("rejected", "too_large"), result.message


@pytest.mark.parametrize("mimetype", [b"application/vnd.oasis.opendocument.spreadsheet",
                                      b"application/vnd.oasis.opendocument.presentation"])
def test_other_opendocument_kinds_are_unsupported(tmp_path, mimetype):
    path = tmp_path / "tableur.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("content.xml", "<x/>")
    result = process_file(path, tmp_path)
    assert result.reason == "unsupported_format" and "OpenDocument" in result.message


def test_a_line_break_in_a_cell_opens_a_statement_with_a_capital_outside_a_list(tmp_path):
    """As in Word (Shift+Enter): statements set one a line in a cell's
    plain paragraph are apart; a sentence cut before a word in lower case,
    or a list item continued on a new line, goes on; outside tables a line
    break never opens a paragraph (a RETEX title's lines stay one)."""
    cell = ('<text:p>Prêt de tablettes<text:line-break/>Des zones blanches en<text:line-break/>milieu rural</text:p>'
            '<text:list><text:list-item><text:p>Une charte des usages<text:line-break/>Rédigée avec les équipes'
            '</text:p></text:list-item></text:list>')
    body = ('<text:p>RETEX 1 –<text:line-break/>Thématique : Un égal accès au numérique pour tous</text:p>'
            f'<table:table><table:table-row><table:table-cell>{cell}</table:table-cell></table:table-row></table:table>')
    blocks = read_odt(write_odt(tmp_path / "s.odt", body)).blocks
    paragraphs = [b for b in blocks if isinstance(b, Paragraph)]
    assert [p.line.new_paragraph for p in paragraphs] == [True, False]
    table = next(b for b in blocks if isinstance(b, Table))
    assert [(line.text, line.new_paragraph) for line in table.rows[0][0].lines] == [
        ("Prêt de tablettes", True), ("Des zones blanches en", True), ("milieu rural", False),
        ("Une charte des usages", True), ("Rédigée avec les équipes", False)]
