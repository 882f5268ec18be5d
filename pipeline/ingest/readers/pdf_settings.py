"""The tolerances of the PDF reader's layout passes, named in one place.

pdfplumber names its own tolerances (`snap_tolerance`, `x_tolerance`…);
these are ours, on top of its words and table grids: when lines are one
line, one paragraph or a running header, when a table goes on over a page,
when a word was cut by a narrow column. Lengths are PDF points (1/72 inch);
the ratios "of the font size" scale with the print, so small and large
text are read alike. Scanned pages go through the same passes (`ocr.py`);
the page-image analysis has its own `ScanSettings` (`page_image.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PdfSettings:
    """Every tolerance of the PDF layout passes, each with its reason."""

    line_tolerance_pt: float = 3.0
    """Words whose tops differ by at most this share a line: a change of
    font or a superscript moves a word's top by a point or two, the next
    line is a whole line height (10 pt and more) lower."""

    column_tolerance_pt: float = 3.0
    """A table on the next page continues the last one only if its column
    boundaries are the same within this: the same table redrawn after a
    page break is placed to the point; another table is not."""

    running_margin: float = 0.08
    """Share of the page height, at its top and at its bottom, where
    running headers and footers are looked for: 8 % is 2.4 cm of an A4
    page, about Word's page margin (2.5 cm), where they are printed and
    body text is not."""

    running_page_share: float = 0.3
    """A margin line repeated on this share of the pages is a running
    header or footer: a document may change its header midway (a new
    section), so not every page need carry it."""

    running_min_pages: int = 2
    """The fewest pages a running header or footer repeats on: in a short
    document, a margin line of a single page is content, whatever the share."""

    page_break_fill: float = 0.75
    """A page whose content ends above this share of its height ends with
    an explicit break (a fiche mesure's end, a part that starts on a new
    page); a fuller page only ran out of room."""

    size_tolerance_pt: float = 0.5
    """Lines whose font sizes differ by more than this do not make one
    paragraph (a heading and its text); the lines of one style differ only
    by rounding."""

    max_line_gap: float = 0.8
    """In font sizes: a blank wider than this between two lines separates
    paragraphs; the lines of one paragraph sit closer, even 1.15-spaced."""

    paragraph_spacing_pt: float = 0.5
    """A blank this much wider than a table's usual blank between lines
    (`_usual_gaps`) is a paragraph's spacing after, in a cell without
    bullets: the lines of one paragraph of a text layer differ by a tenth
    or two of rounding, spacing after is set in whole points (1 pt and
    more: LibreOffice's PDFs of the corpus's DOCX, 1 pt, measure 0.9–1.1)."""

    max_line_overlap_pt: float = 1.0
    """A line whose top is more than this above the line before's bottom
    is not its continuation: it was placed apart (a text box, a column)."""

    space_width: float = 0.3
    """In font sizes: the width of a space between words (0.25–0.33 em in
    the usual proportional fonts), to tell whether the next line's first
    word would have fitted at the end of this one."""

    wrap_margin_pt: float = 1.0
    """A word that would have ended this close to the right limit counts
    as not fitting: justified and kerned lines stop a little short of it."""

    ocr_box_slack_pt: float = 2.0
    """Read from a scan, a table cell's lines wrap this much short of its
    right limit too: Tesseract's word boxes hug the ink, narrower than the
    advance a word takes on its line (a text layer's), so a next word
    that did not fit seems to."""

    cut_word_reach: float = 0.7
    """In font sizes: a one-word line that ends within this of its
    column's right limit fills the column, so its word may have been cut
    without a hyphen (a word wider than a narrow column)."""

    sub_bullet_indent_pt: float = 4.0
    """A bullet indented more than this past a cell's leftmost bullet is a
    sub-bullet (list level 1): bullets of one level line up within a point
    or two, a nested list is indented by several more."""

    cell_padding_pt: float = 5.0
    """A cell's inner right padding when no cell of the table shows it
    (Word's default cell margin is 0.19 cm, about 5.4 pt): text wraps at
    the cell's edge minus the padding."""

    min_cell_padding_pt: float = 1.0
    """The least padding believed: text drawn up to a cell's edge, or
    past it, does not mean that the cells have none."""

    max_cell_padding_pt: float = 10.0
    """The most padding believed: in a table of short entries no line
    comes near the edge, and the gap measures the entries, not the padding."""

    column_gap: float = 0.8
    """In font sizes: a blank wider than this between two words of a
    header line sets them in two columns of a table drawn without vertical
    rules (`text_tables.py`): words of one header cell are a space apart
    (a third of a size), a full header cell's text ends two cell paddings
    (about a size) before the next one's starts."""

    cell_gap: float = 0.6
    """In font sizes: two words of a line on either side of a column
    boundary, closer than this, are running text, not two cells (a space
    is a third of a size; cells sit two paddings apart, a size and more)."""

    band_gap_pt: float = 12.0
    """A table pdfplumber found for its shading alone (a shaded row of a
    banded table) that starts within this below a table rebuilt from its
    text, in the same columns, is that table's next row: the rebuilt table
    stops at its top, a cell padding or two above."""

    table_gap: float = 3.0
    """In font sizes: a blank this tall below a line ends a table drawn
    without rules: the rows of such a table sit a line apart, the
    paragraph after it is set further down."""


SETTINGS = PdfSettings()
