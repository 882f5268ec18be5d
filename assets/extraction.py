"""Extraction: every file of the raw folder, read and parsed on its own."""

from collections import Counter

import dagster as dg

from assets.resources import Progress, RawFolder
from pipeline.model import DocumentResult
from pipeline.process import process_file

OWNERS = ["team:donnees-egn"]

@dg.asset(
    group_name="extraction",
    kinds={"pdf", "docx", "python"},
    owners=OWNERS,
    description=(
        "Lecture de chaque trame de restitution (PDF ou Word) déposée dans le dossier source : "
        "métadonnées de la session, participants, RETEX, diagnostic, projections, plan d'action "
        "et fiches mesure. Un fichier illisible est mis en quarantaine avec sa raison ; "
        "les autres sont traités normalement."
    ),
)
def restitutions(context: dg.AssetExecutionContext, raw_folder: RawFolder, progress: Progress) -> dg.MaterializeResult:
    files = raw_folder.list_files()
    results: list[DocumentResult] = []
    for index, path in enumerate(files, start=1):
        result = process_file(path, raw_folder.root)
        results.append(result)
        progress.document(index, len(files), result)
        context.log.info(f"{result.source_file} : {result.status} – {result.message}")
    statuses = Counter(r.status for r in results)
    return dg.MaterializeResult(
        value=results,
        metadata={
            "fichiers": len(results),
            "ok": statuses["ok"],
            "partiels": statuses["partial"],
            "rejetés": statuses["rejected"],
            "énoncés": sum(len(r.items) for r in results),
            "par document": dg.MetadataValue.md(_per_document(results)),
        },
    )

def _per_document(results: list[DocumentResult]) -> str:
    lines = ["| fichier | statut | sections | énoncés par rôle | pages | durée | message |", "|---|---|---|---|---|---|---|"]
    for r in results:
        sections = ", ".join(sorted(r.restitution.sections_found)) if r.restitution else ""
        roles = Counter(item.role for item in r.items)
        by_role = ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
        message = r.message.replace("|", "/")
        lines.append(
            f"| {r.source_file} | {r.status} | {sections} | {by_role} | {r.n_pages or ''} | {r.seconds:.1f} s | {message} |"
        )
    return "\n".join(lines)
