"""The topic classifier: taxonomy file, predictions, offline loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.classify.classifier import Classifier
from pipeline.classify.taxonomy import CATEGORIES, TaxonomyError, default_path, load_taxonomy


@pytest.fixture(scope="module")
def classifier():
    return Classifier()


def test_taxonomy_file_defines_every_contract_category_in_french():
    taxonomy = load_taxonomy()
    assert [c.code for c in taxonomy] == CATEGORIES
    for category in taxonomy:
        assert category.label and len(category.definition) > 40
        assert len(category.cues) >= 30


def test_taxonomy_validation_rejects_a_cue_in_two_categories(tmp_path):
    data = json.loads(default_path().read_text(encoding="utf-8"))
    data["categories"][1]["cues"].append(data["categories"][0]["cues"][0])
    broken = tmp_path / "taxonomy.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TaxonomyError):
        load_taxonomy(broken)


@pytest.mark.parametrize(
    "text, category",
    [
        ("Manque de tablettes", "equipement"),
        ("Des zones blanches sans connexion internet dans les villages", "connectivite"),
        ("Former les enseignants à la certification Pix", "formation"),
        ("Trop d'identifiants différents pour accéder à l'ENT", "outils_plateformes"),
        ("Renforcer le lien avec les parents d'élèves", "familles"),
        ("Développer les classes inversées et la différenciation pédagogique", "pedagogie"),
        ("Créer un comité de pilotage avec les collectivités", "gouvernance"),
        ("Des réunions en visioconférence qui s'enchaînent le soir", "temps_organisation"),
        ("Limiter le temps d'écran des jeunes élèves", "bien_etre"),
        ("Réduire l'empreinte carbone du numérique", "environnement"),
        ("Respect du RGPD dans le choix des applications", "donnees_souverainete"),
        ("Des élèves d'ULIS sans adaptation des supports", "inclusion"),
        ("Un budget insuffisant pour renouveler les abonnements", "financement"),
        ("pas de wifi dans les ecoles", "connectivite"),  # no accents
    ],
)
def test_clear_statements_land_in_their_category(classifier, text, category):
    prediction = classifier.classify([text])[0]
    assert prediction.category == category
    assert prediction.categories[0] == category and 0 < prediction.score <= 1


def test_a_change_to_the_taxonomy_file_is_seen(tmp_path):
    data = json.loads(default_path().read_text(encoding="utf-8"))
    statement = "Le zorglub des écoles"
    before = Classifier().classify([statement])[0]
    financement = next(c for c in data["categories"] if c["code"] == "financement")
    financement["cues"].append("zorglub")
    changed = tmp_path / "taxonomy.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    after = Classifier(taxonomy_path=changed).classify([statement])[0]
    assert before.category != "financement"
    assert after.category == "financement"


def test_model_loads_and_classifies_with_no_network():
    # Any attempt to open a socket fails: the model must come from the installed packages.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from pipeline.classify.classifier import Classifier\n"
        "print(Classifier().classify(['Manque de tablettes'])[0].category)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={"PATH": "", "HF_HUB_OFFLINE": "1", "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "equipement"


def test_a_failed_warm_up_is_reported_where_the_classifier_is_used(tmp_path):
    from assets.resources import ClassifierResource

    resource = ClassifierResource(taxonomy_path=str(tmp_path / "absent.json"))
    resource.warm_up_in_background()
    with pytest.raises(FileNotFoundError):
        resource.classifier


def test_training_ranks_each_statement_s_primary_category_above_its_secondary_ones():
    # Pairs of statements about the same two topics, with opposite primaries: trained
    # on binary targets both topics would be equally likely for each statement.
    from pipeline.classify.train import prepare, train

    records = [
        {"text": "La mairie finance l'achat des tablettes", "categories": ["financement", "equipement"]},
        {"text": "Un budget de la collectivité pour les tablettes", "categories": ["financement", "equipement"]},
        {"text": "Des tablettes en panne malgré les crédits", "categories": ["equipement", "financement"]},
        {"text": "Les ordinateurs portables sont trop anciens, achetés sur crédits", "categories": ["equipement", "financement"]},
        {"text": "Former les enseignants à l'ENT", "categories": ["formation", "outils_plateformes"]},
        {"text": "L'ENT tombe en panne, les enseignants formés ne peuvent rien", "categories": ["outils_plateformes", "formation"]},
    ] * 3
    textcat = train(prepare(records)).get_pipe("textcat_multilabel")
    docs = [doc for doc, _ in prepare(records[:6])]
    for doc, record in zip(textcat.pipe(docs), records):
        primary, secondary = record["categories"]
        assert doc.cats[primary] > doc.cats[secondary], (record["text"], doc.cats)


def test_training_refuses_a_target_outside_zero_and_one():
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("fr")
    doc = nlp("Manque de tablettes")
    reference = doc.copy()
    reference.cats = {"equipement": 1.5}
    model = {"@architectures": "egn.LemmaBOW.v1", "ngram_size": 1, "length": 1024}
    nlp.add_pipe("egn_graded_textcat", config={"model": model}).add_label("equipement")
    with pytest.raises(ValueError, match="outside"):
        nlp.initialize(lambda: [Example(doc, reference)])
