"""The national report on real documents: its views checked against the
contract's own tables, then the page itself in Debian's headless Chromium
at desk and phone width, its search box typed into, its académie and
département view followed."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil

import pytest
from conftest import CORPUS
from markupsafe import escape
from support import open_report
from test_synthesis import CHROMIUM, CHROMIUM_ARGS, build_tables

from pipeline.ingest.normalize.themes import THEMES
from pipeline.publish.report import (
    DEPARTEMENT_ROLES,
    RECURRING_SHOWN,
    _data,
    guessed_departement,
    quality_view,
    recurring_roles,
    regions_view,
    render_report,
    report_view,
)
from pipeline.tables.aggregate import MATRIX_ROLES
from pipeline.tables.recurring import recurring_statements

COPY = "sarthe-72 (1).docx"  # a byte-identical copy: rejected as `duplicate`, its message names the original
PHONE = 390


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every document of the test corpus (scans, PDF, ODT, rejected files of
    each kind) and a copy of one, read and classified as the assets do;
    the report written where its links to ../raw/ resolve."""
    base = tmp_path_factory.mktemp("rapport-reel")
    raw = base / "raw"
    shutil.copytree(CORPUS, raw)
    shutil.copy(CORPUS / "sarthe-72.docx", raw / COPY)
    built = build_tables(raw, classify=True)
    recurring = recurring_statements(built["items"], built["documents"])
    page = render_report(built, recurring, "../raw/")
    index = base / "report" / "index.html"
    index.parent.mkdir()
    index.write_text(page, encoding="utf-8")
    return built, recurring, page, index


def _documents(built) -> dict[str, dict]:
    return {row["source_file"]: row for row in built["documents"].to_dict("records")}


# --------------------------------------------------------------------------
# Views, on the tables of real documents
# --------------------------------------------------------------------------


def test_a_rejected_file_shows_the_departement_it_seems_to_come_from(corpus):
    built, recurring, _, _ = corpus
    documents = _documents(built)
    cases = {
        "restitution_EGN_05_protege.pdf": ("05", "d'après le nom du fichier"),  # encrypted: its name
        "Courrier_IA-DASEN_EGN_82.docx": ("82", "d'après la page de garde"),  # not a restitution: its cover page
        COPY: ("72", "d'après le nom du fichier"),  # a copy's message names its original, not a département
    }
    for name, (code, basis) in cases.items():
        guess = guessed_departement(documents[name])
        assert (guess.departement.code, guess.basis) == (code, basis), name
    assert guessed_departement(documents["notes_atelier_EGN.docx"]) is None  # neither name nor content says
    assert guessed_departement(documents["sarthe-72.docx"]) is None  # read: nothing to suppose

    rows = {row.file.text: row for row in quality_view(_data(built, recurring, "../raw/")).problems}
    assert rows["restitution_EGN_05_protege.pdf"].departement == "Hautes-Alpes (05) — supposé"
    assert rows["restitution_EGN_05_protege.pdf"].basis == "Département supposé d'après le nom du fichier"
    assert rows["Courrier_IA-DASEN_EGN_82.docx"].departement == "Tarn-et-Garonne (82) — supposé"
    assert rows["notes_atelier_EGN.docx"].departement == "—"
    assert rows["Trame de restitution EGN 45.docx"].departement == "45 Loiret"  # partial: read, not supposed
    assert rows["Trame de restitution EGN 45.docx"].status == "Partiel – Sections manquantes"


def test_academies_and_regions_add_up_to_the_contract_matrix(corpus):
    """Each académie's statements by role are its départements' rows of
    department_theme_matrix (one counted file per département)."""
    built, recurring, _, _ = corpus
    regions = regions_view(_data(built, recurring, "../raw/"))
    matrix = built["department_theme_matrix"]
    academies = {academie.name: academie for region in regions for academie in region.academies}
    assert set(matrix["academie"]) <= set(academies)
    for name, academie in academies.items():
        rows = matrix[matrix["academie"] == name]
        assert academie.counts == [int(rows[f"n_{role}"].sum()) for role in MATRIX_ROLES], name
        assert academie.n_counted == rows["departement_code"].nunique(), name
    for region in regions:
        assert region.counts == [sum(column) for column in zip(*(a.counts for a in region.academies))]
    # Régions in French alphabetical order; a rejected file sits under the département it points to.
    names = [region.name for region in regions]
    assert names == sorted(names) and "Provence-Alpes-Côte d'Azur" in names
    aix = [dep.label for dep in academies["Aix-Marseille"].departements]
    assert aix == ["Hautes-Alpes (05) — supposé", "13 Bouches-du-Rhône"]
    assert not academies["Aix-Marseille"].departements[0].counted
    assert [dep.label for dep in academies["Toulouse"].departements] == ["31 Haute-Garonne", "Tarn-et-Garonne (82) — supposé"]


def test_a_departement_lists_its_files_and_every_statement_that_counts(corpus):
    built, recurring, _, _ = corpus
    data = _data(built, recurring, "../raw/")
    sarthe = next(dep for region in regions_view(data) for academie in region.academies
                  for dep in academie.departements if dep.anchor == "dep-72")
    assert (sarthe.label, sarthe.academie, sarthe.region) == ("72 Sarthe", "Nantes", "Pays de la Loire")
    notes = {line.link.text: line.note for line in sarthe.files}
    assert notes == {"sarthe-72.docx": "pris en compte", "sarthe-72.pdf": "même session qu'un autre fichier, non compté",
                     COPY: "département supposé d'après le nom du fichier"}
    counted = built["items"][built["items"]["document_id"] == _documents(built)["sarthe-72.docx"]["document_id"]]
    shown = [s.text for theme in sarthe.themes for group in theme.roles for s in group.statements]
    assert sorted(shown) == sorted(counted[counted["role"].isin(DEPARTEMENT_ROLES)]["text"])
    assert sarthe.n_statements == len(shown)
    matrix = built["department_theme_matrix"]
    assert [count.n for count in sarthe.counts] == [
        int(matrix[matrix["departement_code"] == "72"][f"n_{role}"].sum()) for role in MATRIX_ROLES]


def test_every_recurring_statement_is_reachable(corpus):
    built, recurring, page, _ = corpus
    data = _data(built, recurring, "../raw/")
    roles = [role for theme in THEMES for role in recurring_roles(data, theme)]
    assert sum(len(role.shown) + len(role.more) for role in roles) == len(recurring)
    assert any(role.more for role in roles)  # some are behind « voir les autres »…
    assert all(len(role.shown) <= RECURRING_SHOWN[role.role] for role in roles)
    for text in recurring["representative"]:  # …and every one of them is on the page
        assert escape(f"« {text} »") in page, text


def test_the_page_is_deterministic_and_admits_only_its_own_style_and_script(corpus):
    built, recurring, page, _ = corpus
    assert render_report(built, recurring, "../raw/") == page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)[1]
    assert "unsafe" not in policy and "default-src 'none'" in policy and "form-action 'none'" in policy
    for directive, tag in (("style-src", "style"), ("script-src", "script")):
        inline = re.findall(f"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert len(inline) == 1 and f"{directive} 'sha256-{digest}'" in policy
    assert report_view(built, recurring, "../raw/").data_date == "01/12/2020"


# --------------------------------------------------------------------------
# The page in Chromium
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("width", [1280, PHONE])
def test_the_report_fits_the_screen_at_desk_and_phone_width(corpus, browser, width, tmp_path):
    _, _, _, index = corpus
    problems, requests = [], []
    page = open_report(browser, index, width, problems, requests)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("svg.chart").count() >= 10
        assert page.locator("#barre-recherche").is_visible()  # the script ran under the policy
        # Wide tables and the heat map scroll inside their own box.
        for box in page.locator(".table-scroll, .scroll").all():
            assert box.evaluate("element => element.getBoundingClientRect().right") <= width
        shot = tmp_path / f"rapport-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert problems == []
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_search_box_filters_statements_as_one_types(corpus, browser):
    _, _, _, index = corpus
    problems, requests = [], []
    page = open_report(browser, index, PHONE, problems, requests)
    try:
        tablets = page.locator("[data-filtre]", has_text="Équipement des classes de CM en tablettes")
        old_computers = page.locator("li.rec", has_text="Un parc informatique vieillissant")
        assert old_computers.first.is_visible()
        assert not tablets.first.is_visible()  # a 4th recurring action, folded away under « voir les autres »

        page.fill("#recherche", "equipement tablette")  # no accent, capital or plural: it still matches
        assert tablets.count() >= 2 and all(found.is_visible() for found in tablets.all())
        assert not any(found.is_visible() for found in old_computers.all())
        shown = page.evaluate("[...document.querySelectorAll('[data-filtre]')].map(e => e.hidden ? null : e.textContent)")
        assert None in shown and all("tablette" in text.lower() for text in shown if text is not None)
        assert "correspondent à « equipement tablette »" in page.inner_text("#recherche-statut")
        assert not page.locator("#participants").is_visible()  # only statements while filtering

        page.fill("#recherche", "Sarthe")  # a département: its files and all its statements
        sarthe = page.locator("#dep-72")
        assert sarthe.is_visible() and sarthe.locator("li[data-filtre='enonce']").first.is_visible()
        assert not page.locator("#dep-83").is_visible()

        page.fill("#recherche", "")  # cleared: the page as it was
        assert old_computers.first.is_visible() and not tablets.first.is_visible()
        assert page.locator("#participants").is_visible()
        assert page.evaluate("[...document.querySelectorAll('[hidden]')].length") == 0
    finally:
        page.close()
    assert problems == []


def test_academies_lead_to_each_departement(corpus, browser):
    _, _, _, index = corpus
    problems, requests = [], []
    page = open_report(browser, index, 1280, problems, requests)
    try:
        table = page.locator("table.academies")
        assert table.locator("tr.region th", has_text="Pays de la Loire").is_visible()
        table.locator("a", has_text="72 Sarthe").click()
        assert page.evaluate("location.hash") == "#dep-72"
        sarthe = page.locator("#dep-72")
        assert sarthe.is_visible() and "Nantes" in sarthe.evaluate("e => e.closest('.academie').innerText")
        statement = sarthe.locator("li[data-filtre='enonce']").first
        assert not statement.is_visible()
        sarthe.locator("summary").click()
        assert statement.is_visible()
        supposed = page.locator("#dep-05")
        assert "Hautes-Alpes (05) — supposé" in supposed.inner_text()
        assert "restitution_EGN_05_protege.pdf" in supposed.inner_text()
    finally:
        page.close()
    assert problems == []
