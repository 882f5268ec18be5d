"""The jobs, named in French since analysts pick them in the UI.

`traiter_tous_les_fichiers` is the one way to process everything: the
sensor launches it over the files that changed, the nightly schedule over
every file, and an analyst from its page ("Materialize all", then "All"),
always as one run (the per-file asset's single-run backfill policy).
Retraining the classifier (group `modele`) is in none of the others: it
runs only when an analyst launches it.
"""

import dagster as dg

from assets.documents import document
from assets.model import GROUP as RETRAINING_GROUP

PER_FILE = dg.AssetSelection.assets(document)
RETRAINING = dg.AssetSelection.groups(RETRAINING_GROUP)
# Everything a run over the files does: reading, tables, publication.
PIPELINE = dg.AssetSelection.all() - RETRAINING

files_job = dg.define_asset_job(
    name="lire_les_fichiers_choisis", selection=PER_FILE,
    description=(
        "Lit et classe seulement les fichiers choisis (une partition par fichier) ; les tables et le rapport "
        "suivent d'eux-mêmes. Pour tout traiter, lancez plutôt « traiter_tous_les_fichiers »."
    ),
)
tables_job = dg.define_asset_job(
    name="mettre_a_jour_les_tables", selection=PIPELINE - PER_FILE,
    description=(
        "Refait les tables, les agrégats, le rapport et le classeur à partir des fichiers déjà lus (aucun "
        "fichier n'est relu), puis publie outputs/. Lancé après une suppression de fichier ou une correction."
    ),
)
everything_job = dg.define_asset_job(
    name="traiter_tous_les_fichiers", selection=PIPELINE,
    description=(
        "Tout, en une seule exécution : lit et classe les fichiers nouveaux ou modifiés (les autres viennent "
        "du cache), refait les tables, le rapport et le classeur, publie outputs/. Depuis l'interface : "
        "« Materialize all », choisir « All », puis « Launch backfill »."
    ),
)
retraining_job = dg.define_asset_job(
    name="reentrainement_modele", selection=RETRAINING,
    description=(
        "Entraîne une nouvelle version du modèle de classement avec les corrections des analystes et la "
        "met en service si elle n'est pas moins exacte sur le jeu aveugle. À lancer à la demande."
    ),
)
