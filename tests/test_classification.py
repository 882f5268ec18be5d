"""The topic classifier: taxonomy file, predictions, offline loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.classify.classifier import Classifier
from pipeline.classify.taxonomy import CATEGORIES, TaxonomyError, default_path, load_taxonomy

# rapidfuzz ratio (0–100) from which two statements count as the same one reworded.
NEAR_COPY = 85
# How much lower, on average, a wrong primary category must score than a right one.
SCORE_GAP = 0.1


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
    # Cues are analysts' to edit: a new cue is found at the next load, and
    # weighs as much as the cue weight chosen at training time says.
    from pipeline.classify.scoring import Scoring

    data = json.loads(default_path().read_text(encoding="utf-8"))
    statement = "Le zorglub des écoles"
    before = Classifier().evidence([statement])[0]
    financement = next(c for c in data["categories"] if c["code"] == "financement")
    financement["cues"].append("zorglub")
    changed = tmp_path / "taxonomy.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    classifier = Classifier(taxonomy_path=changed)
    after = classifier.evidence([statement])[0]
    assert "financement" not in before.cue_hits
    assert after.cue_hits == {"financement": 1}
    assert classifier.decide(after, Scoring(cue_miss=0.1)).category == "financement"
    assert classifier.decide(after, Scoring(cue_miss=1.0)).category == classifier.decide(before, Scoring(cue_miss=1.0)).category


@pytest.mark.parametrize(
    "text, category",
    [
        ("Nommer un DPD", "donnees_souverainete"),
        ("Généraliser PIX", "formation"),
        ("Plus d'AESH", "inclusion"),
        ("Labelliser E3D", "environnement"),
        ("Le GAR pour tous", "outils_plateformes"),
        ("Davantage de TNI", "equipement"),
        ("Le THD partout", "connectivite"),
    ],
)
def test_an_acronym_alone_maps_to_its_category(classifier, text, category):
    assert classifier.classify([text])[0].category == category


def test_the_acronym_lexicon_spells_out_whole_words_only():
    from pipeline.classify.acronyms import AcronymExpander, load_acronyms

    expand = AcronymExpander(load_acronyms())
    assert "protection des données" in expand("Désigner un DPD dans chaque EPLE")
    assert "espace numérique de travail" in expand("l'ent plante souvent")  # any case, after an apostrophe
    assert expand("Souvent, une onde de reprise") == "Souvent, une onde de reprise"  # words, not acronyms
    assert "renforcé" in expand("les écoles de REP+")


@pytest.mark.parametrize(
    "statement, clause",
    [
        ("Renouveler les ordinateurs portables des enseignants", " – en lien avec les collectivités"),
        ("Former les professeurs à l'animation d'une classe virtuelle", ", en priorité pour l'éducation prioritaire"),
        ("Mettre les applications utilisées en classe en conformité avec le RGPD", " (notamment pour les familles)"),
        ("Installer le wifi dans toutes les salles de classe", " – en lien avec le budget de la région"),
        ("Un temps d'écran excessif qui fatigue les jeunes élèves", ", y compris pendant la formation des enseignants"),
    ],
)
def test_a_trailing_context_clause_does_not_flip_the_category(classifier, statement, clause):
    assert classifier.classify([statement + clause])[0].category == classifier.classify([statement])[0].category


@pytest.mark.parametrize(
    "statement, topics",
    [
        ("Financer le renouvellement des ordinateurs des écoles", {"financement", "equipement"}),
        ("Le recyclage du matériel informatique obsolète des collèges", {"environnement", "equipement"}),
    ],
)
def test_a_statement_about_two_topics_lists_both(classifier, statement, topics):
    assert topics <= set(classifier.classify([statement])[0].categories)


def test_a_model_stored_without_a_secondary_choice_keeps_the_textcat_threshold(tmp_path):
    # Model versions retrained by analysts before `secondary` was chosen at
    # training time stored only the cue weight and the calibration.
    from pipeline.classify.scoring import DEFAULT_SECONDARY, SCORING_FILE, Scoring

    (tmp_path / SCORING_FILE).write_text('{"cue_miss": 0.75, "weights": [1.0, 0.0, 0.0, 0.0]}', encoding="utf-8")
    assert Scoring.load(tmp_path) == Scoring(cue_miss=0.75, secondary=DEFAULT_SECONDARY)
    Scoring(cue_miss=0.75, secondary=0.35).save(tmp_path)
    assert Scoring.load(tmp_path).secondary == 0.35


def test_scores_are_probabilities(classifier):
    texts = ["Manque de tablettes", "???", "", "Le numérique", "x" * 500, "Former, équiper, financer, connecter"]
    for evidence, prediction in zip(classifier.evidence(texts), classifier.classify(texts)):
        assert all(0.0 <= p <= 1.0 for p in evidence.probabilities.values())
        assert 0.0 <= prediction.score <= 1.0


def test_training_is_deterministic():
    from pipeline.classify.classifier import StatementReader
    from pipeline.classify.train import committee, prepare, train

    records = [{"text": text, "categories": [category]} for text, category in [
        ("Manque de tablettes dans les écoles", "equipement"), ("Des ordinateurs trop anciens", "equipement"),
        ("Pas de réseau dans les villages", "connectivite"), ("Le wifi ne fonctionne pas", "connectivite"),
        ("Former les enseignants au numérique", "formation"), ("Des formations Pix pour les élèves", "formation"),
    ]] * 2
    labelled = prepare(records, StatementReader())
    for member, config in enumerate(committee()):
        first, second = (train(labelled, config, member).get_pipe("textcat_multilabel").model.to_bytes()
                         for _ in range(2))
        assert first == second, config.name


def test_a_training_config_without_other_members_trains_its_own_members_only(tmp_path):
    # Analysts may retrain with a config written before the bag-of-words member.
    from pipeline.classify.train import CONFIG, committee

    older = tmp_path / "older.cfg"
    older.write_text(CONFIG.read_text(encoding="utf-8").replace('other_members = ["bag_of_words.cfg"]', ""),
                     encoding="utf-8")
    assert committee(older) == [older, older]
    assert committee(CONFIG) == [CONFIG, CONFIG, CONFIG.parent / "bag_of_words.cfg"]


def test_the_shipped_model_is_the_committee_its_config_describes():
    # A config changed without `make train` would leave a model that no
    # longer says what config.cfg does: each member folder must hold the
    # textcat of its place in the committee (ensembles, then bag-of-words).
    from spacy.util import load_config

    from pipeline.classify.classifier import member_dirs
    from pipeline.classify.paths import default_model_dir
    from pipeline.classify.train import committee

    def architecture(config: dict) -> str:
        return config["components"]["textcat_multilabel"]["model"]["@architectures"]

    configs = committee()
    members = member_dirs(default_model_dir())
    assert len(members) == len(configs) == 3
    assert [architecture(load_config(m / "config.cfg")) for m in members] == \
        [architecture(load_config(c)) for c in configs] == ["spacy.TextCatEnsemble.v2"] * 2 + ["egn.LemmaBOW.v1"]


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
        _ = resource.classifier


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
        {"text": "L'ENT tombe en panne, les enseignants formés ne peuvent rien",
         "categories": ["outils_plateformes", "formation"]},
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


def test_no_training_statement_is_a_near_copy_of_a_blind_statement():
    # The blind set measures wording the model never learnt: a training
    # statement that copies one (in any file, old or new) would void it.
    from rapidfuzz import fuzz, process

    from pipeline.classify.labelled import BLIND_SET, own_records, read_jsonl

    blind = [record["text"] for record in read_jsonl(BLIND_SET)]
    training = [record["text"] for record in own_records()]
    similarity = process.cdist(training, blind, scorer=fuzz.ratio, workers=1)
    worst = similarity.max()
    assert worst < NEAR_COPY, training[similarity.max(axis=1).argmax()]


def test_misclassified_statements_score_lower(classifier):
    # What the review queue relies on: on statements the model never learnt
    # (the blind set), the score of a wrong primary category is lower.
    from pipeline.classify.labelled import BLIND_SET, read_jsonl

    records = read_jsonl(BLIND_SET)
    predictions = classifier.classify([r["text"] for r in records])
    right = [p.score for p, r in zip(predictions, records) if p.category == r["categories"][0]]
    wrong = [p.score for p, r in zip(predictions, records) if p.category != r["categories"][0]]
    assert wrong and sum(wrong) / len(wrong) < sum(right) / len(right) - SCORE_GAP


def _truth_folder(folder: Path, statements: list[tuple[str, str]]) -> Path:
    folder.mkdir()
    items = [{"section": "diagnostic", "theme": "acces", "role": "irritant", "text": text, "categories": [code]}
             for text, code in statements]
    (folder / "a.docx.truth.json").write_text(json.dumps({"source_file": "a.docx", "items": items}), encoding="utf-8")
    return folder


def test_a_comparison_on_a_validation_corpus_is_reproducible_and_reports_every_seed(tmp_path):
    # `make compare` decides training choices on a validation corpus: the
    # same choice must give the same figures, or a difference means nothing.
    from spacy.util import load_config

    from pipeline.classify.compare import Variant, compare
    from pipeline.classify.labelled import DATA, truth_records
    from pipeline.classify.train import CONFIG, committee

    small = tmp_path / "small.cfg"
    for shipped in set(committee(CONFIG)):  # the config and its other members'
        config = load_config(shipped)
        config["training"]["max_epochs"] = 2
        config.to_disk(small if shipped == CONFIG else tmp_path / shipped.name)
    validation = truth_records(_truth_folder(tmp_path / "truth", [
        ("Manque d'ordinateurs portables pour les élèves", "equipement"),
        ("Débit internet trop faible dans les écoles rurales", "connectivite"),
        ("Former les enseignants aux outils numériques", "formation"),
        ("Réduire la consommation d'énergie des serveurs", "environnement"),
    ]))
    variant = Variant("petit", small, (DATA / "train_broad_d.jsonl",))
    first, second = compare([variant, variant], validation, seeds=3)
    assert first.members == second.members and first.committees == second.committees
    assert len(first.members) == 3 and len(first.committees) == 3
    assert all(0 <= accuracy <= 1 for accuracy in first.members + first.committees)


def test_a_comparison_refuses_to_leave_out_a_file_that_is_not_trained_on(tmp_path, capsys):
    from pipeline.classify.compare import main
    from pipeline.classify.labelled import BLIND_SET

    with pytest.raises(SystemExit) as stop:
        main(["--validation", str(tmp_path), "--without", str(BLIND_SET)])
    assert stop.value.code == 2 and "pas un fichier d'entraînement" in capsys.readouterr().err


def test_the_figure_on_unseen_wording_leaves_out_what_the_model_learnt(tmp_path):
    # `make eval`'s national row measures wording no training statement was
    # written against: a statement the model learnt, even re-cased or
    # without accents, would measure its memory instead.
    from pipeline.classify.evaluate import unseen
    from pipeline.classify.labelled import own_records, truth_records

    learnt = own_records()
    accented = next(r["text"] for r in learnt if any(c in r["text"] for c in "éèà"))
    new = ["Des casiers de recharge pour les tablettes du collège", "Un agenda partagé des réunions de bassin"]
    folder = _truth_folder(tmp_path / "truth", [(accented.upper(), "equipement"), (new[0], "equipement"),
                                                (new[1], "temps_organisation")])
    assert [r["text"] for r in unseen(truth_records(folder), learnt)] == new
