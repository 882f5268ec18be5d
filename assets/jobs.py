"""The jobs: per-file processing, publication of the tables, and both.

Retraining the classifier (group `modele`) is in none of them: it runs
only when an analyst materialises it.
"""

import dagster as dg

from assets.documents import document
from assets.model import GROUP as RETRAINING_GROUP

PER_FILE = dg.AssetSelection.assets(document)
RETRAINING = dg.AssetSelection.groups(RETRAINING_GROUP)
# Everything a run over the files does: reading, tables, publication.
PIPELINE = dg.AssetSelection.all() - RETRAINING

documents_job = dg.define_asset_job(
    name="documents_job", selection=PER_FILE,
    description="Lit et classe les fichiers demandés (une partition par fichier).",
)
publication_job = dg.define_asset_job(
    name="publication_job", selection=PIPELINE - PER_FILE,
    description="Reconstruit les tables et agrégats du contrat et publie les fichiers de outputs/.",
)
restitutions_job = dg.define_asset_job(
    name="restitutions_job", selection=PIPELINE,
    description="Tout : lit les fichiers (ceux qui ont changé), reconstruit les tables, publie outputs/.",
)
retraining_job = dg.define_asset_job(
    name="reentrainement_modele", selection=RETRAINING,
    description=(
        "Entraîne une nouvelle version du modèle de classement avec les corrections des analystes et la "
        "met en service si elle n'est pas moins exacte sur le jeu aveugle. À lancer à la demande."
    ),
)
