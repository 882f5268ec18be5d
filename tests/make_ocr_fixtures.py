"""Regenerate the committed ODT, PDF and scan fixtures from existing ones.

Run by hand, never by the tests (which read the committed files): it needs
LibreOffice (`soffice`) and poppler's `pdftoppm`, which the pipeline does
not. Usage: `.venv/bin/python tests/make_ocr_fixtures.py [NATIONAL_RAW [DEV_RAW]]`,
NATIONAL_RAW and DEV_RAW being the national and dev corpora's `raw/`
folders, whose files are not all committed (without them, the fixtures
made from them are left as they are).

- `sarthe-72.odt`: the Sarthe DOCX re-saved by LibreOffice.
- `01_restitution_etats_generaux_numerique_VF.pdf`: the Ain DOCX exported
  to PDF by LibreOffice (7.4), whose page break cuts a diagnostic row's
  theme label before its last word, "NUMÉRIQUE".
- `Trame de restitution EGN 22_VF.pdf`: the national corpus's DOCX of that
  name exported to PDF by LibreOffice (7.4), whose introduction wraps the
  session's place at its hyphen ("Saint-|Brieuc").
- `ille-et-vilaine_row_added.pdf`: the Ille-et-Vilaine DOCX with a row
  added below its first diagnostic row (`make_docx.py`), the last statement
  of each column moved into it: its theme cell is an empty bulleted
  paragraph, whose bullet LibreOffice's PDF shows alone.
- `ille-et-vilaine_plain.pdf`: the Ille-et-Vilaine DOCX with its
  statements set as plain paragraphs (`make_docx.py`'s `plain_statements`:
  no bullet, one statement per paragraph, 1 pt spacing after), which
  LibreOffice's PDF tells apart only by that spacing.
- `ain_plain.pdf`: the Ain DOCX so changed, whose page breaks fall between
  two plain paragraphs of a plan d'action cell ("… avec le numérique |
  Installation du wifi …"), where no spacing is left to tell them apart.
- `herault_letters.pdf` (DEV_RAW): the dev corpus's Hérault DOCX with its
  statements typed as lettered lists ("a. ", "b. ": `make_docx.lettered`),
  whose page break leaves a "c." alone at a page's foot and its text on
  the next page, and cuts "2020-|2021".
- `puy-de-dome_plain.pdf`: the dev corpus's Puy-de-Dôme DOCX so changed
  (DEV_RAW), whose PDF gives one line of a cell the font size
  7.999999999999972 instead of 8: the paragraph spacing after it must
  still be read at size 8.
- `ille-et-vilaine_dashes.pdf`: the same, each statement opened by a typed
  "- ": its plan d'action table starts so low on a page that the page break
  cuts its header row ("Thématique concernée | (parmi les 5)").
- `ille-et-vilaine_theme_banners.pdf` and `ille-et-vilaine_theme_headings.pdf`:
  the Ille-et-Vilaine DOCX with no theme column in its data tables, each
  theme written instead in a banner row above its rows, or in a paragraph
  above a table of its own (`make_docx.py`).
- `ille-et-vilaine_no_borders.pdf` and `ain_horizontal_rules.pdf`: the
  Ille-et-Vilaine and Ain DOCX with every table drawn without borders, or
  with rules between rows only (`make_docx.py`'s `table_rules`): only the
  shaded header rows are drawn boxes, which pdfplumber alone finds.
  `ille-et-vilaine_plain_tables.pdf`: the same without borders nor the
  header's shading, nothing drawn at all.
- `ain_plain_tables.pdf` and `ardennes_plain_tables.pdf` (DEV_RAW): the Ain
  and the dev corpus's Ardennes DOCX with nothing drawn, like
  `ille-et-vilaine_plain_tables.pdf`: lines that end on "du" or "des"
  before a capital ("du | CNED", "des | ERUN"), a ")" alone on its line,
  and words cut at the last column's unseen edge ("Fréquentatio|n").
- `bouches-du-rhone_banded.pdf`: the Bouches-du-Rhône DOCX with tables
  drawn without borders, every other row shaded (`banded_rows`).
- `scan_sarthe-72_p3-4.pdf`: pages 3–4 of the Sarthe PDF (introduction,
  check boxes, participants, the start of the diagnostic table) rasterised
  at 200 dpi, rotated slightly and sprinkled with grey noise, as a scanner
  would, then re-assembled as an image-only PDF.
- `scan_24_p9.pdf`: page 9 of the national corpus's
  `24_restitution_etats_generaux_numerique.pdf` (a plan d'action whose
  cells are set 1.5-spaced, one of whose lines opens with "à"), scanned
  the same way.
- `scan_DSDEN15_p6.pdf`: page 6 of the national corpus's
  `Trame_restitution_EGN_DSDEN15.pdf`, grainier: it holds only the last
  word ("autonomie") of a row the page break cut.
- `scan_Isere_p8.pdf`: page 8 of the national corpus's
  `EGNum_Isere_synthese_v2.pdf` (a plan d'action with "▶" bullets).
- `scan_Isere_p9-10.pdf`: pages 9–10 of the same: a fiche mesure's
  end, then a fiche whose theme title runs over two lines.
- `scan_aube_p9.pdf`: page 9 of the national corpus's
  `restitution-egn-aube_def.pdf`: a fiche whose theme title ends on a
  line of one word, "TOUS".
- `scan_21_p4.pdf`: page 4 of the national corpus's
  `21_restitution_etats_generaux_numerique.pdf` (its participants),
  scanned clean: Tesseract's page reading drops the "6" of "Nombre de
  participants : 6".
- `scan_ille-et-vilaine_no_borders_p4-6.pdf`: pages 4–6 of
  `ille-et-vilaine_no_borders.pdf` (introduction, RETEX, a diagnostic
  table carried over a page break, all drawn without rules), scanned.
- `scan_ardennes_no_borders_p8-9.pdf`: pages 8–9 of the dev corpus's
  `Trame_restitution_EGN_DSDEN08.docx` drawn without borders, scanned: a
  plan d'action whose columns Tesseract reads as one line set at two
  heights, a statement opening with "À", and a last row the page break cuts.
- `scan_37_p4.pdf` (DEV_RAW): page 4 of the dev corpus's
  `Trame de restitution EGN 37.docx` (its introduction), scanned: the
  session's row, one cell across the table, reads "9 octobre 2020 - Lycée
  Jean Moulin - Tours (37)", and the rows below have a column wall under
  the dash before "Tours".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from make_docx import (
    banded_rows,
    lettered,
    move_last_statements_to_a_new_row,
    plain_statements,
    table_rules,
    theme_column_as_banners,
    theme_column_as_headings,
)
from PIL import Image

HERE = Path(__file__).parent / "fixtures"
SOURCE = HERE / "corpus"
OUT = HERE / "generated"
SCAN_PAGES = (3, 4)
SCAN_DPI = 200
SCAN_ROTATION_DEGREES = 0.7
NOISE_SIGMA = 8.0  # grey levels
JPEG_QUALITY = 40
SEED = 19
PDF_SOURCE = "01_restitution_etats_generaux_numerique_VF.docx"
NATIONAL_PDF_SOURCE = "Trame de restitution EGN 22_VF.docx"


def make_odt(tmp: Path) -> None:
    subprocess.run(["soffice", "--headless", "--convert-to", "odt", "--outdir", str(tmp),
                    str(SOURCE / "sarthe-72.docx")], check=True, capture_output=True)
    shutil.copy(tmp / "sarthe-72.odt", OUT / "sarthe-72.odt")


def make_pdf(tmp: Path, docx: Path, kept: bool = True) -> Path:
    """The DOCX's PDF by LibreOffice, copied among the fixtures if `kept`."""
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp), str(docx)],
                   check=True, capture_output=True)
    if kept:
        shutil.copy(tmp / f"{docx.stem}.pdf", OUT / f"{docx.stem}.pdf")
    return tmp / f"{docx.stem}.pdf"


def make_changed_pdf(tmp: Path, name: str, change: Callable[[Path], None],
                     source: Path = SOURCE / "EGNum_Ille_et_vilaine_synthese_def.docx", kept: bool = True) -> Path:
    """The PDF of a corpus DOCX (a copy, named `name`) that `change` altered."""
    docx = tmp / f"{name}.docx"
    shutil.copy(source, docx)
    change(docx)
    return make_pdf(tmp, docx, kept)


def make_scan(tmp: Path, pdf: Path, pages_read: tuple[int, int], name: str,
              rotation: float = SCAN_ROTATION_DEGREES, noise: float = NOISE_SIGMA, quality: int = JPEG_QUALITY) -> None:
    first, last = pages_read
    folder = Path(tempfile.mkdtemp(dir=tmp))
    subprocess.run(["pdftoppm", "-r", str(SCAN_DPI), "-gray", "-f", str(first), "-l", str(last),
                    str(pdf), str(folder / "page")], check=True)
    rng = np.random.default_rng(SEED)
    pages = []
    for image_path in sorted(folder.glob("page*.pgm")):
        page = Image.open(image_path).convert("L")
        page = page.rotate(rotation, resample=Image.BICUBIC, fillcolor=255)
        pixels = np.asarray(page, dtype=np.float32) + rng.normal(0.0, noise, (page.height, page.width))
        pages.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    pages[0].save(OUT / name, save_all=True, append_images=pages[1:], resolution=SCAN_DPI, quality=quality)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        make_odt(Path(tmp))
        make_pdf(Path(tmp), SOURCE / PDF_SOURCE)
        make_changed_pdf(Path(tmp), "ille-et-vilaine_row_added",
                         partial(move_last_statements_to_a_new_row, table_index=1, row=1))
        make_changed_pdf(Path(tmp), "ille-et-vilaine_plain", plain_statements)
        make_changed_pdf(Path(tmp), "ain_plain", plain_statements, SOURCE / PDF_SOURCE)
        make_changed_pdf(Path(tmp), "ille-et-vilaine_dashes", partial(plain_statements, mark="- "))
        make_changed_pdf(Path(tmp), "ille-et-vilaine_theme_banners", theme_column_as_banners)
        make_changed_pdf(Path(tmp), "ille-et-vilaine_theme_headings", theme_column_as_headings)
        make_changed_pdf(Path(tmp), "ille-et-vilaine_no_borders", partial(table_rules, horizontal=False))
        make_changed_pdf(Path(tmp), "ille-et-vilaine_plain_tables",
                         partial(table_rules, horizontal=False, shading=False))
        make_changed_pdf(Path(tmp), "ain_horizontal_rules", partial(table_rules, horizontal=True), SOURCE / PDF_SOURCE)
        make_changed_pdf(Path(tmp), "ain_plain_tables", partial(table_rules, horizontal=False, shading=False),
                         SOURCE / PDF_SOURCE)
        make_changed_pdf(Path(tmp), "bouches-du-rhone_banded", banded_rows,
                         SOURCE / "EGNum_Bouches_du_rhone_synthese_def.docx")
        first, last = SCAN_PAGES
        make_scan(Path(tmp), SOURCE / "sarthe-72.pdf", SCAN_PAGES, f"scan_sarthe-72_p{first}-{last}.pdf")
        make_scan(Path(tmp), OUT / "ille-et-vilaine_no_borders.pdf", (4, 6),
                  "scan_ille-et-vilaine_no_borders_p4-6.pdf", rotation=0.4, noise=6.0)
        if len(sys.argv) > 2:
            ardennes = make_changed_pdf(Path(tmp), "ardennes_no_borders", partial(table_rules, horizontal=False),
                                        Path(sys.argv[2]) / "Trame_restitution_EGN_DSDEN08.docx", kept=False)
            make_scan(Path(tmp), ardennes, (8, 9), "scan_ardennes_no_borders_p8-9.pdf", rotation=0.6, noise=6.0)
            make_changed_pdf(Path(tmp), "ardennes_plain_tables", partial(table_rules, horizontal=False, shading=False),
                             Path(sys.argv[2]) / "Trame_restitution_EGN_DSDEN08.docx")
            make_changed_pdf(Path(tmp), "herault_letters", partial(plain_statements, mark=lettered),
                             Path(sys.argv[2]) / "restitution-egn-herault.docx")
            make_changed_pdf(Path(tmp), "puy-de-dome_plain", plain_statements,
                             Path(sys.argv[2]) / "Trame de restitution EGN 63_def.docx")
            tours = make_pdf(Path(tmp), Path(sys.argv[2]) / "Trame de restitution EGN 37.docx", kept=False)
            make_scan(Path(tmp), tours, (4, 4), "scan_37_p4.pdf", rotation=-0.4, noise=6.0)
        if len(sys.argv) > 1:
            national = Path(sys.argv[1])
            make_pdf(Path(tmp), national / NATIONAL_PDF_SOURCE)
            make_scan(Path(tmp), national / "24_restitution_etats_generaux_numerique.pdf", (9, 9),
                      "scan_24_p9.pdf", rotation=0.3, noise=6.0)
            make_scan(Path(tmp), national / "Trame_restitution_EGN_DSDEN15.pdf", (6, 6),
                      "scan_DSDEN15_p6.pdf", rotation=-0.3, noise=10.0)
            make_scan(Path(tmp), national / "EGNum_Isere_synthese_v2.pdf", (8, 8),
                      "scan_Isere_p8.pdf", rotation=0.0, noise=4.0)
            make_scan(Path(tmp), national / "EGNum_Isere_synthese_v2.pdf", (9, 10),
                      "scan_Isere_p9-10.pdf", rotation=0.2, noise=5.0)
            make_scan(Path(tmp), national / "restitution-egn-aube_def.pdf", (9, 9),
                      "scan_aube_p9.pdf", rotation=-0.2, noise=6.0)
            make_scan(Path(tmp), national / "21_restitution_etats_generaux_numerique.pdf", (4, 4),
                      "scan_21_p4.pdf", rotation=0.0, noise=0.0, quality=60)
