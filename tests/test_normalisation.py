"""Normalisers: theme labels, départements, dates, actors, time frames."""

from __future__ import annotations

import pytest

from pipeline.ingest.normalize.actors import actor_codes
from pipeline.ingest.normalize.dates import parse_date_place
from pipeline.ingest.normalize.departements import departements, resolve_title
from pipeline.ingest.normalize.temporalite import classify
from pipeline.ingest.normalize.themes import resolve_theme


@pytest.mark.parametrize(
    "label, code",
    [
        ("...Un égal accès au numérique pour tous/la fracture numérique", "acces"),
        ("#1 GARANTIR UN ÉGAL ACCÈS AU NUMÉRIQUE POUR TOUS", "acces"),
        ("Fracture numérique", "acces"),
        ("Travailler ensemble autrement/ Culture numérique professionnelle commune", "travailler_ensemble"),
        ("Trav. ensemble", "travailler_ensemble"),
        ("Gouvernance et anticipation", "gouvernance"),
        ("Nouvelles formes de gouvernance et outils d'anticipation", "gouvernance"),
        ("Gouvernnance et antcipation", "gouvernance"),  # typos
        ("▶ Un numérique responsable et souverain", "responsable_souverain"),
        ("• #4 FAVORISER LE DÉVELOPPEMENT D'UN NUMÉRIQUE RESPONSABLE ET SOUVERAIN", "responsable_souverain"),
        ("Numerique responsable", "responsable_souverain"),  # no accents
        ("ENSEIGNER ET APPRENDRE AVEC LE NUMÉRIQUE", "enseigner_apprendre"),
        ("Enseigner / apprendre", "enseigner_apprendre"),
        ("Thème 3", "gouvernance"),  # a bare number follows the preamble's order
        ("#2", "travailler_ensemble"),
        ("5.", "enseigner_apprendre"),
    ],
)
def test_theme_labels_resolve(label, code):
    match = resolve_theme(label)
    assert match.code == code
    assert 0 < match.confidence <= 1


@pytest.mark.parametrize("label", ["", "Divers", "Autres remarques", "Thème 7", "NUMÉRIQUE"])
def test_unresolvable_theme_is_unknown_not_guessed(label):
    assert resolve_theme(label).code == "inconnu"
    assert resolve_theme(label).confidence == 0


def test_reference_has_the_101_departements_of_2020():
    table = departements()
    assert len(table) == 101
    assert table["72"].academie == "Nantes" and table["72"].region_academique == "Pays de la Loire"
    assert table["14"].academie == "Normandie"  # the académies merged in 2020
    assert {"2A", "2B", "971", "976"} <= set(table)


@pytest.mark.parametrize(
    "title, code",
    [
        ("DSDEN de la Sarthe", "72"),
        ("DSDEN 72", "72"),
        ("Direction des services départementaux de l'éducation nationale du Nord", "59"),
        ("DSDEN des Bouches-du-Rhône", "13"),
        ("DSDEN de la Haute-Loire", "43"),
        ("DSDEN de la Loire", "42"),
        ("DSDEN de La Réunion", "974"),
        ("DSDEN de Seine Saint Denis", "93"),
        ("DSDEN du Val-d'Oise", "95"),
    ],
)
def test_dsden_titles_resolve(title, code):
    assert resolve_title(title).code == code


@pytest.mark.parametrize(
    "text, iso, place",
    [
        ("Mercredi 14 octobre 2020 – Lycée BELLEVUE – Le Mans (72)", "2020-10-14", "Lycée BELLEVUE – Le Mans (72)"),
        ("Le 27 octobre 2020, Collège Jules Ferry, Bourg-en-Bresse", "2020-10-27", "Collège Jules Ferry, Bourg-en-Bresse"),
        ("14/10/2020 – DSDEN", "2020-10-14", "DSDEN"),
        ("les 5 et 6 novembre 2020 - visioconférence", "2020-11-05", "visioconférence"),
        ("du 1er au 3 déc. 2020 : Atelier Canopé", "2020-12-01", "Atelier Canopé"),
        ("", None, None),
    ],
)
def test_dates_and_places(text, iso, place):
    assert parse_date_place(text) == (iso, place)


@pytest.mark.parametrize(
    "raw, codes",
    [
        ("Région, Département, Métropoles, Communes, Cité éducative, DDCS, Centre sociaux, acteurs associatifs...",
         ["region", "departement", "intercommunalite", "commune", "cite_educative", "etat_deconcentre",
          "centres_sociaux", "associations"]),
        ("Rectorat / DSDEN", ["rectorat", "dsden"]),
        ("Éducation nationale (ministère et DSDEN), Département, communes", ["ministere", "dsden", "departement", "commune"]),
        ("Mission locale, Pôle emploi", ["autre"]),
        ("CAF, centres sociaux, associations", ["autre", "centres_sociaux", "associations"]),
        ("Parents d'élèves (FCPE, PEEP)", ["familles"]),
        ("Ministère, start-up EdTech, éditeurs scolaires", ["ministere", "entreprises"]),
    ],
)
def test_actor_codes(raw, codes):
    assert actor_codes(raw) == codes


@pytest.mark.parametrize(
    "raw, code",
    [("Court terme", "court"), ("MT", "moyen"), ("Long terme, nécessite une stabilisation", "long"),
     ("Dans les 6 mois", "court"), ("D'ici 2 à 3 ans", "moyen"), ("À l'horizon 2025", "long"),
     ("Rentrée 2022", "moyen"), ("Janvier 2021", "court"), ("Non défini", None), ("", None)],
)
def test_time_frames(raw, code):
    assert classify(raw) == code
