"""The jobs: per-file processing, publication of the tables, and both."""

import dagster as dg

from assets.documents import document

PER_FILE = dg.AssetSelection.assets(document)

documents_job = dg.define_asset_job(
    name="documents_job", selection=PER_FILE,
    description="Lit et classe les fichiers demandés (une partition par fichier).",
)
publication_job = dg.define_asset_job(
    name="publication_job", selection=dg.AssetSelection.all() - PER_FILE,
    description="Reconstruit les tables et agrégats du contrat et publie les fichiers de outputs/.",
)
restitutions_job = dg.define_asset_job(
    name="restitutions_job", selection=dg.AssetSelection.all(),
    description="Tout : lit les fichiers (ceux qui ont changé), reconstruit les tables, publie outputs/.",
)
