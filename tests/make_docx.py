"""Build small restitutions with python-docx, to test what Word files do
that the corpus files happen not to: merged cells, nested tables,
check-box content controls, tables wrapped in content controls."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'

PARTICIPANT_LABELS = [
    "Équipes pédagogiques, éducatives administratives du premier degré",
    "Équipes pédagogiques, éducatives, administratives du second degré",
    "Représentants académiques",
    "Représentants des usagers (familles et élèves)",
    "Associations et collectifs actifs de la sphère éducative locale, de médiation et d'inclusion",
    "Élus, cadres et représentants d'association, d'élus communaux, départementaux, régionaux et des collectivités",
    "Chercheurs",
    "Opérateurs",
    "Représentants de la filière EdTech",
]
DIAGNOSTIC_HEADER = ["Thématique concernée (parmi les 5)", "RETEX", "Irritants", "Points forts"]
PROJECTION_HEADER = ["Thématique concernée (parmi les 5)", "Irritants principaux", "Besoin",
                     "Axes d'amélioration ou leviers permettant de répondre aux besoins correspondants aux irritants"]
PLAN_HEADER = ["Thématique concernée (parmi les 5)", "Axes d'amélioration principaux (Quoi)",
               "Actions à mener (Comment)", "Acteurs mobilisés",
               "Temporalité souhaitée pour une mise en œuvre", "Indicateurs et facteurs de réussite"]


def checkbox_control(checked: bool) -> str:
    """A Word check-box content control, as Word 2010+ writes it."""
    glyph = "☒" if checked else "☐"
    return (
        f'<w:sdt {nsdecls("w")} {W14}><w:sdtPr><w14:checkbox><w14:checked w14:val="{int(checked)}"/>'
        '</w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>'
        f"{glyph}</w:t></w:r></w:sdtContent></w:sdt>"
    )


def _bullets(cell, texts: list[str], level: int = 0) -> None:
    first = True
    for text in texts:
        paragraph = cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()
        first = False
        paragraph.style = "List Bullet" if level == 0 else "List Bullet 2"
        paragraph.add_run(text)


def _fill_row(row, values) -> None:
    for cell, value in zip(row.cells, values):
        if isinstance(value, list):
            _bullets(cell, value)
        else:
            cell.text = value


def add_table(document, header: list[str], rows: list[list]) -> docx.table.Table:
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    _fill_row(table.rows[0], header)
    for row, values in zip(table.rows[1:], rows):
        _fill_row(row, values)
    return table


def add_intro(document, date_place: str, checkbox_controls: bool = False, counts: dict | None = None) -> None:
    counts = counts or {}
    table = document.add_table(rows=4 + len(PARTICIPANT_LABELS), cols=3)
    table.cell(0, 0).text = "Nom de la Région académique"
    table.cell(0, 1).text = "PAYS DE LA LOIRE"
    table.cell(1, 0).text = "Date(s) et lieu(x) de la session"
    table.cell(1, 1).text = date_place
    table.cell(2, 0).text = "Format de la session Cocher la case correspondante"
    format_cell = table.cell(2, 1)
    if checkbox_controls:
        paragraph = format_cell.paragraphs[0]
        for label, checked in (("Présentiel", False), ("Distanciel", True), ("Les 2", False)):
            paragraph._p.append(parse_xml(checkbox_control(checked)))
            paragraph.add_run(f" {label} ")
    else:
        format_cell.text = "☐ Présentiel ☒ Distanciel ☐ Les 2"
    table.cell(3, 0).text = "Animateurs de la session"
    table.cell(3, 1).text = "Jeanne DUPONT - IA-DASEN"
    for i, label in enumerate(PARTICIPANT_LABELS):
        row = 4 + i
        table.cell(row, 0).text = "Participants à la session" if i == 0 else ""
        count = counts.get(i)
        table.cell(row, 1).text = f"{'☒' if count else '☐'} {label}"
        table.cell(row, 2).text = f"Nombre de participants : {count if count is not None else 'à compléter'}"


def restitution(path: Path, *, title: str = "DSDEN de la Mayenne",
                date_place: str = "Jeudi 12 novembre 2020 – Lycée Douanier Rousseau – Laval (53)",
                diagnostic_rows: list[list] | None = None, projection: bool = True, plan: bool = True,
                checkbox_controls: bool = False) -> Path:
    """A minimal but complete restitution; callers then alter it."""
    document = docx.Document()
    document.add_paragraph("Trame de restitution")
    document.add_paragraph(title)
    document.add_heading("Introduction", level=2)
    add_intro(document, date_place, checkbox_controls, counts={0: 14, 3: 2})
    document.add_heading("Diagnostic des points forts et irritants", level=3)
    add_table(document, DIAGNOSTIC_HEADER, diagnostic_rows or [
        ["Un égal accès au numérique pour tous", ["Prêt de tablettes"], ["Zones blanches en milieu rural"],
         ["Mobilisation des communes"]],
        ["Enseigner et apprendre avec le numérique", "", ["Manque de vidéoprojecteurs"],
         ["Classes virtuelles bien accueillies"]],
    ])
    if projection:
        document.add_heading("Synthèse des besoins & axes d'amélioration", level=3)
        add_table(document, PROJECTION_HEADER, [
            ["Gouvernance et anticipation", ["Achats sans concertation"], ["Associer les usagers"],
             ["Comité départemental du numérique"]],
        ])
    if plan:
        document.add_heading("Plan d'action pour répondre aux besoins et activer les leviers d'amélioration", level=2)
        add_table(document, PLAN_HEADER, [
            ["Travailler ensemble autrement", ["Former les équipes"], ["Parcours m@gistère"],
             ["Rectorat (DANE), Canopé"], ["Court terme"], ["Nombre de personnes formées"]],
        ])
    document.save(path)
    return path


def merge_theme_cells(path: Path, table_index: int, first_row: int, last_row: int) -> None:
    """Merge the theme column vertically, as Word does (vMerge)."""
    document = docx.Document(path)
    table = document.tables[table_index]
    table.cell(first_row, 0).merge(table.cell(last_row, 0))
    document.save(path)


def wrap_table_in_content_control(path: Path, table_index: int) -> None:
    """Put a table inside a block-level content control (w:sdt)."""
    document = docx.Document(path)
    tbl = document.tables[table_index]._tbl
    sdt = parse_xml(f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent/></w:sdt>")
    tbl.addprevious(sdt)
    sdt.find(qn("w:sdtContent")).append(tbl)
    document.save(path)


def nest_table_in_cell(path: Path, table_index: int, row: int, col: int, texts: list[str]) -> None:
    """Replace a cell's content by a one-column nested table."""
    document = docx.Document(path)
    cell = document.tables[table_index].cell(row, col)
    for paragraph in list(cell.paragraphs)[1:]:
        paragraph._p.getparent().remove(paragraph._p)
    cell.paragraphs[0].text = ""
    inner = cell.add_table(rows=len(texts), cols=1)
    for i, text in enumerate(texts):
        inner.cell(i, 0).text = text
    document.save(path)


def duplicate_row(path: Path, table_index: int, row: int) -> None:
    document = docx.Document(path)
    tr = document.tables[table_index].rows[row]._tr
    tr.addnext(copy.deepcopy(tr))
    document.save(path)


def _tracked(tag: str, revision: int) -> docx.oxml.xmlchemy.BaseOxmlElement:
    return parse_xml(f'<w:{tag} {nsdecls("w")} w:id="{revision}" w:author="Relecteur" w:date="2020-11-20T10:00:00Z"/>')


def track_move_last_paragraph_up(path: Path, table_index: int, row: int, col: int) -> None:
    """Move a cell's last paragraph to the top of the cell with track
    changes on, as Word records it: the text stays at its old place inside
    w:moveFrom (in w:t) and is written again at the new place in w:moveTo."""
    document = docx.Document(path)
    cell = document.tables[table_index].cell(row, col)
    old = cell.paragraphs[-1]._p
    new = copy.deepcopy(old)
    move_from = _tracked("moveFrom", 1)
    for run in old.findall(qn("w:r")):
        move_from.append(run)
    old.append(move_from)
    mark = parse_xml(f"<w:rPr {nsdecls('w')}/>")  # the paragraph mark moved too
    mark.append(_tracked("moveFrom", 2))
    old.get_or_add_pPr().append(mark)
    move_to = _tracked("moveTo", 3)
    for run in new.findall(qn("w:r")):
        move_to.append(run)
    new.append(move_to)
    cell.paragraphs[0]._p.addprevious(new)
    document.save(path)


def non_breaking_hyphens(path: Path, table_index: int) -> None:
    """Type every hyphen inside a word of a table as Word's non-breaking
    hyphen (Ctrl+Shift+-), a w:noBreakHyphen element between two w:t."""
    document = docx.Document(path)
    for t in list(document.tables[table_index]._tbl.iter(qn("w:t"))):
        pieces = (t.text or "").split("-")
        t.text = pieces[0]
        anchor = t
        for piece in pieces[1:]:
            hyphen = parse_xml(f"<w:noBreakHyphen {nsdecls('w')}/>")
            text = parse_xml(f'<w:t {nsdecls("w")} xml:space="preserve"/>')
            text.text = piece
            anchor.addnext(hyphen)
            hyphen.addnext(text)
            anchor = text
    document.save(path)


def theme_banner_rows(path: Path, table_index: int) -> None:
    """Write each row's theme as a banner: a row of one cell merged over
    the table's width (gridSpan) above the row, whose theme cell is left
    empty."""
    document = docx.Document(path)
    table = document.tables[table_index]
    n_columns = len(table.columns)
    for row in list(table.rows)[1:]:
        theme_cell = row.cells[0]
        if not theme_cell.text:
            continue
        banner = copy.deepcopy(row._tr)
        for tc in banner.findall(qn("w:tc"))[1:]:
            banner.remove(tc)
        banner.find(qn("w:tc")).get_or_add_tcPr().append(
            parse_xml(f'<w:gridSpan {nsdecls("w")} w:val="{n_columns}"/>'))
        row._tr.addprevious(banner)
        theme_cell.text = ""
    document.save(path)


def two_row_header(path: Path, table_index: int, title: str) -> None:
    """Give a table a header of two rows: the theme column's header merged
    down over both (vMerge), a title merged over the other columns
    (gridSpan) above their own headers."""
    document = docx.Document(path)
    header = document.tables[table_index].rows[0]._tr
    top = copy.deepcopy(header)
    cells = top.findall(qn("w:tc"))
    for tc in cells[2:]:
        top.remove(tc)
    cells[1].get_or_add_tcPr().append(parse_xml(f'<w:gridSpan {nsdecls("w")} w:val="{len(cells) - 1}"/>'))
    for t in cells[1].iter(qn("w:t")):
        t.text = ""
    cells[1].find(f"{qn('w:p')}/{qn('w:r')}/{qn('w:t')}").text = title
    cells[0].get_or_add_tcPr().append(parse_xml(f'<w:vMerge {nsdecls("w")} w:val="restart"/>'))
    header.addprevious(top)
    theme = header.find(qn("w:tc"))
    for paragraph in theme.findall(qn("w:p")):
        theme.remove(paragraph)
    theme.append(parse_xml(f"<w:p {nsdecls('w')}/>"))
    theme.get_or_add_tcPr().append(parse_xml(f"<w:vMerge {nsdecls('w')}/>"))
    document.save(path)


def move_last_statements_to_a_new_row(path: Path, table_index: int, row: int) -> None:
    """Insert a row below `row` as Word's "Insert below" does (a copy of the
    row with its paragraph formats, list bullets included, and no text),
    then move each statement column's last paragraph into it: the items are
    the same, the new row's theme cell is an empty bulleted paragraph."""
    document = docx.Document(path)
    tr = document.tables[table_index].rows[row]._tr
    new = copy.deepcopy(tr)
    tr.addnext(new)
    for k, (old_tc, new_tc) in enumerate(zip(tr.findall(qn("w:tc")), new.findall(qn("w:tc")))):
        paragraphs = new_tc.findall(qn("w:p"))
        for paragraph in paragraphs[1:]:
            new_tc.remove(paragraph)
        for run in paragraphs[0].findall(qn("w:r")):
            paragraphs[0].remove(run)
        old_paragraphs = old_tc.findall(qn("w:p"))
        if k > 0 and len(old_paragraphs) > 1:
            new_tc.remove(paragraphs[0])
            new_tc.append(old_paragraphs[-1])
    document.save(path)


_TYPED_BULLET_RE = re.compile(r"^\s*[▶•◦\-–]\s*")


def lettered(index: int) -> str:
    """A typed lettered list's mark for the statement `index` of a cell: "a. ", "b. "…"""
    return f"{'abcdefghijklmnopqrstuvwxyz'[index]}. "


def plain_statements(path: Path, mark: str | Callable[[int], str] = "") -> None:
    """Set every statement of the data tables (the tables whose header
    opens with "Thématique", all columns but the theme) as a plain
    paragraph: list format, list style, indent and a typed bullet removed,
    one statement per paragraph as before; `mark` ("- ", or a function of
    the statement's place in its cell: `lettered`) typed before each."""
    document = docx.Document(path)
    for table in document.tables:
        if not table.rows or "mati" not in table.rows[0].cells[0].text:
            continue
        for tr in table._tbl.findall(qn("w:tr"))[1:]:
            for tc in tr.findall(qn("w:tc"))[1:]:
                index = 0
                for paragraph in tc.findall(qn("w:p")):
                    texts = [t for t in paragraph.iter(qn("w:t")) if t.text]
                    if not "".join(t.text for t in texts).strip():
                        continue
                    typed = mark(index) if callable(mark) else mark
                    index += 1
                    properties = paragraph.find(qn("w:pPr"))
                    for tag in ("w:numPr", "w:pStyle", "w:ind"):
                        found = properties.find(qn(tag)) if properties is not None else None
                        if found is not None:
                            properties.remove(found)
                    texts[0].text = typed + _TYPED_BULLET_RE.sub("", texts[0].text, count=1)
                    if typed:  # its trailing space kept
                        texts[0].set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    document.save(path)


def statements_on_soft_breaks(path: Path) -> None:
    """Set the statements of each data-table cell (all columns but the
    theme) as one plain paragraph, one statement a line: Shift+Enter
    (`w:br`) between them, list format, style, indent and typed bullet
    removed."""
    plain_statements(path)
    document = docx.Document(path)
    for table in _data_tables(document):
        for tr in table._tbl.findall(qn("w:tr"))[1:]:
            for tc in tr.findall(qn("w:tc"))[1:]:
                paragraphs = [p for p in tc.findall(qn("w:p")) if "".join(t.text or "" for t in p.iter(qn("w:t"))).strip()]
                for paragraph in paragraphs[1:]:
                    paragraphs[0].append(parse_xml(f'<w:r {nsdecls("w")}><w:br/></w:r>'))
                    for run in paragraph.findall(qn("w:r")):
                        paragraphs[0].append(run)
                    tc.remove(paragraph)
    document.save(path)


def _data_tables(document) -> list:
    """The data tables: those whose header opens with "Thématique"."""
    return [table for table in document.tables if table.rows and "mati" in table.rows[0].cells[0].text]


def _drop_first_column(tbl) -> None:
    for tr in tbl.findall(qn("w:tr")):
        tr.remove(tr.findall(qn("w:tc"))[0])
    grid = tbl.find(qn("w:tblGrid"))
    grid.remove(grid.findall(qn("w:gridCol"))[0])


def _theme_groups(tbl) -> list[tuple[str, list]]:
    """The data rows, grouped under the theme written in their first cell
    (a row with an empty theme cell belongs to the theme above)."""
    groups: list[tuple[str, list]] = []
    for tr in tbl.findall(qn("w:tr"))[1:]:
        theme = "".join(t.text or "" for t in tr.findall(qn("w:tc"))[0].iter(qn("w:t"))).strip()
        if theme or not groups:
            groups.append((theme, []))
        groups[-1][1].append(tr)
    return groups


def drop_theme_column(path: Path) -> None:
    """Delete every data table's theme column, writing the themes nowhere."""
    document = docx.Document(path)
    for table in _data_tables(document):
        _drop_first_column(table._tbl)
    document.save(path)


def theme_column_as_banners(path: Path) -> None:
    """Delete every data table's theme column and write each theme as a
    banner instead: a row of one cell, merged over the table's width
    (gridSpan), above the theme's rows."""
    document = docx.Document(path)
    for table in _data_tables(document):
        tbl = table._tbl
        groups = _theme_groups(tbl)
        _drop_first_column(tbl)
        width = len(tbl.find(qn("w:tblGrid")).findall(qn("w:gridCol")))
        for theme, rows in groups:
            banner = parse_xml(f'<w:tr {nsdecls("w")}><w:tc><w:tcPr><w:gridSpan w:val="{width}"/></w:tcPr>'
                               f'<w:p><w:r><w:rPr><w:b/></w:rPr><w:t/></w:r></w:p></w:tc></w:tr>')
            banner.find(".//" + qn("w:t")).text = theme
            rows[0].addprevious(banner)
    document.save(path)


def theme_column_as_headings(path: Path) -> None:
    """Delete every data table's theme column and give each theme a table
    of its own (the header repeated) under a paragraph naming the theme."""
    document = docx.Document(path)
    for table in _data_tables(document):
        tbl = table._tbl
        groups = _theme_groups(tbl)
        _drop_first_column(tbl)
        template = copy.deepcopy(tbl)
        for tr in template.findall(qn("w:tr"))[1:]:
            template.remove(tr)
        anchor = tbl
        for theme, rows in groups:
            heading = document.add_paragraph(theme)._p  # created at the end, moved below
            part = copy.deepcopy(template)
            for tr in rows:
                part.append(tr)
            anchor.addnext(heading)
            heading.addnext(part)
            anchor = part
        tbl.getparent().remove(tbl)
    document.save(path)


def table_rules(path: Path, horizontal: bool, shading: bool = True) -> None:
    """Draw every table without vertical borders: with a rule between rows
    (and above and below the table) if `horizontal`, else with none; and
    without the header's shading unless `shading`."""
    document = docx.Document(path)
    sides = {"top": horizontal, "bottom": horizontal, "insideH": horizontal,
             "left": False, "right": False, "insideV": False}
    for table in document.tables:
        tbl_pr = table._tbl.find(qn("w:tblPr"))
        for old in tbl_pr.findall(qn("w:tblBorders")):
            tbl_pr.remove(old)
        tbl_pr.append(parse_xml(f'<w:tblBorders {nsdecls("w")}>' + "".join(
            f'<w:{side} w:val="{"single" if drawn else "nil"}" w:sz="4"/>' for side, drawn in sides.items())
            + "</w:tblBorders>"))
        for tc_pr in table._tbl.iter(qn("w:tcPr")):
            for old in tc_pr.findall(qn("w:tcBorders")) + ([] if shading else tc_pr.findall(qn("w:shd"))):
                tc_pr.remove(old)
    document.save(path)


def banded_rows(path: Path) -> None:
    """Draw every table without borders, every other row shaded."""
    table_rules(path, horizontal=False)
    document = docx.Document(path)
    for table in document.tables:
        for tr in table._tbl.findall(qn("w:tr"))[::2]:
            for tc in tr.findall(qn("w:tc")):
                tc.get_or_add_tcPr().append(
                    parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="D9E2F3"/>'))
    document.save(path)
