"""`egn run --raw DIR --outputs DIR`: the same asset definitions, in-process.

No second code path: it registers the folder's files as partitions (as the
sensor does) and materialises every asset in one run over all partitions
(as the nightly schedule does). When no file changed since the outputs
were last published, and they are still as written, there is nothing to
run (see assets/publication.py). A quarantined file is a normal outcome;
the exit code is non-zero only when the run itself failed or could not
publish.

It never waits silently and never for ever: before its run it fails the
runs whose process is gone and frees their slots (assets/runs.py); when a
live run holds the outputs it says which one and since when, and waits at
most `--attente` seconds, asleep. SIGTERM stops it like Ctrl-C: the run
stops where it is and the outputs stay the previous complete set. An
error is one French sentence; its details go to the log file it names.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from assets.partitions import FILES, partition_range_tags
from assets.publication import current_version, is_published
from assets.resources import LOADER_THREAD, resources
from assets.runs import fail_dead_runs, outputs_holders, process_tags
from pipeline.ingest.sources import identities
from pipeline.publish.locks import Holder, LockBusy, exclusive
from pipeline.tables.corrections import folder_version

EXIT_FAILED, EXIT_BUSY, EXIT_INTERRUPTED = 1, 75, 130  # 75: EX_TEMPFAIL, try again later
RUN_LOCK = "egn-run.lock"
LOG_FILE = "egn-run.log"
# A failing nightly run appends its story each night: past this size the
# log is moved to egn-run.log.1 (replacing the previous one), so the two
# files stay bounded.
LOG_MAX_BYTES = 1 << 20
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR}
_EXPLAINED = _NO_SPACE | _NOT_WRITABLE


class RunFailed(Exception):
    """The run ended in failure; `error` is its first step's error, as Dagster serialised it."""

    def __init__(self, error):
        super().__init__(error.to_string() if error else "échec de l'exécution")
        self.error = error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="egn", description="Restitutions des États généraux du numérique.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Traiter un dossier de restitutions et écrire les CSV du contrat.")
    run.add_argument("--raw", default=None, help="dossier des fichiers reçus (défaut : $EGN_RAW_DIR ou raw/)")
    run.add_argument("--outputs", default=None, help="dossier de sortie (défaut : $EGN_OUTPUTS_DIR ou outputs/)")
    run.add_argument("--attente", type=int, default=600, metavar="SECONDES",
                     help="attente maximale quand une autre exécution publie les sorties (défaut : 600)")
    run.add_argument("--corrections", default=None,
                     help="dossier des corrections des analystes (défaut : $EGN_CORRECTIONS_DIR ou corrections/ "
                          "à côté du dossier source)")
    model = commands.add_parser("modele", help="Voir ou changer la version du modèle de classement en service.")
    model.add_argument("--revenir", action="store_true", help="retirer la dernière mise en service (retour à la précédente)")
    args = parser.parse_args(argv)
    if args.command == "modele":
        return model_command(args.revenir)

    # SIGTERM (systemd, Kubernetes, timeout) stops the command as Ctrl-C
    # does; inside a run Dagster turns both into an interruption of the step.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Dagster's notices about its own beta parameters are not for analysts.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    # Dagster's own switch: a run over a range of partitions writes one
    # "planned" event per asset for the whole range instead of one per file.
    # On SQLite each event is a separate write (about 20 ms for an asset
    # event: 2 s for the 101 files of a national run). Dagster's stated
    # cost: if the run itself fails, its partitions are not marked failed;
    # a bad file never fails the run.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    home = os.environ.get("DAGSTER_HOME")
    chosen = resources(args.raw, args.outputs, echo=True, wait_seconds=args.attente, corrections_dir=args.corrections)
    log_path = Path(home or chosen["result_store"].path) / LOG_FILE
    try:
        result = _run(chosen, home, args.attente, log_path)
    except (Exception, KeyboardInterrupt) as error:  # every failure ends as one sentence and an exit code
        code, sentence = explain(error, args.attente)
        _log_details(log_path, error)
        print(f"{sentence} Détails : {log_path}", file=sys.stderr)
        return _ended(code)
    # The process ends with this command: the garbage collection Python runs
    # at exit would walk everything the run loaded (spaCy's model, the
    # tables) only to free it, 2.5 s after a national run.
    gc.freeze()
    outputs = chosen["outputs_folder"].root
    if result is None:
        print(f"Rien à refaire : ni les fichiers ni les corrections n'ont changé depuis la dernière publication. "
              f"Résultats dans {outputs}")
        return 0
    documents = result.asset_value("documents")
    counts = documents["status"].value_counts().to_dict()
    print(
        f"Terminé : {len(documents)} fichiers ({counts.get('ok', 0)} ok, {counts.get('partial', 0)} partiels, "
        f"{counts.get('rejected', 0)} rejetés). Résultats dans {outputs}"
    )
    return 0


def model_command(roll_back: bool) -> int:
    """Which model classifies, and the way back from a promoted version."""
    store = resources()["classifier"].store
    if roll_back:
        active = store.roll_back()
        print(f"Dernière mise en service retirée. Modèle en service : {active.name}. "
              f"La prochaine exécution reclasse les énoncés avec lui (sans relire les fichiers).")
    else:
        history = store.history()
        print(f"Modèle en service : {store.active().name} ({len(history)} mise(s) en service dans {store.root}).")
    return 0


def _run(chosen: dict, home: str | None, wait_seconds: int, log_path: Path) -> dg.ExecuteInProcessResult | None:
    """The run, on the instance of DAGSTER_HOME (one `egn run` at a time on
    it: two would add and delete each other's partitions) or an ephemeral one."""
    if not home:
        with dg.DagsterInstance.ephemeral() as instance, _console_log_in(log_path):
            return _checked(materialize_all(chosen, instance, quiet=True))

    def announce(holder: Holder | None) -> None:
        who = holder.describe() if holder else "une autre commande"
        print(f"Une autre commande egn run utilise déjà {home} ({who}) ; attente de sa fin "
              f"(au plus {wait_seconds} s).", flush=True)

    with exclusive(Path(home) / RUN_LOCK, Holder.this_process(), wait_seconds, announce), \
            dg.DagsterInstance.get() as instance:
        for run_id in fail_dead_runs(instance):
            print(f"L'exécution {run_id[:8]} avait été arrêtée de force : marquée en échec, sorties libérées.")
        wait_for_outputs_pool(instance, wait_seconds)
        with _console_log_in(log_path):
            return _checked(materialize_all(chosen, instance, quiet=True))


@contextlib.contextmanager
def _console_log_in(log_path: Path) -> Iterator[None]:
    """Dagster's console log (its warnings, a failed step's traceback) goes
    to the log file: the terminal shows the progress lines and one sentence."""
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = log_path.open("a", encoding="utf-8")
    except OSError:  # no log file (a full disk?): the console log stays on the terminal
        yield
        return
    with handle, contextlib.redirect_stderr(handle):
        yield


def _checked(result: dg.ExecuteInProcessResult | None) -> dg.ExecuteInProcessResult | None:
    if result is not None and not result.success:
        failures = [event for event in result.all_events if event.is_step_failure]
        raise RunFailed(failures[0].step_failure_data.error if failures else None)
    return result


def wait_for_outputs_pool(instance: dg.DagsterInstance, wait_seconds: int) -> None:
    """Wait, asleep and at most `wait_seconds`, while a live run (from the UI,
    a schedule…) holds the outputs pool; runs that died meanwhile are failed
    and their slots freed at each look. Dagster would otherwise wait on the
    slot itself, silently and without a bound."""
    deadline = time.monotonic() + wait_seconds
    announced = False
    while holders := outputs_holders(instance):
        if not announced:
            print(f"Les sorties sont en cours de publication par {holders[0].describe()} ; attente de sa fin "
                  f"(au plus {wait_seconds} s).", flush=True)
            announced = True
        if time.monotonic() >= deadline:
            raise LockBusy(holders[0], wait_seconds)
        time.sleep(1)
        fail_dead_runs(instance)


def explain(error: BaseException, wait_seconds: int) -> tuple[int, str]:
    """The exit code and the French sentence for what stopped the command."""
    names, errnos, holder = _causes(error)
    kept = "les sorties publiées précédemment sont intactes."
    if isinstance(error, KeyboardInterrupt) or "DagsterExecutionInterruptedError" in names:
        return EXIT_INTERRUPTED, f"Exécution interrompue à la demande : {kept}"
    if isinstance(error, LockBusy) or "LockBusy" in names:
        who = holder.describe() if holder else "une autre exécution"
        return EXIT_BUSY, (f"Les sorties sont toujours occupées par {who} après {wait_seconds} s d'attente : "
                           f"relancez egn run plus tard (ou avec --attente plus long) ; {kept}")
    if "DagsterAssetCheckFailedError" in names:
        return EXIT_FAILED, (f"Un contrôle bloquant des tables a échoué, rien n'a été publié : "
                             f"voir le contrôle en échec dans le journal ; {kept}")
    if errnos & _NO_SPACE:
        return EXIT_FAILED, (f"Plus de place sur le disque pour écrire les résultats : "
                             f"libérez de l'espace puis relancez egn run ; {kept}")
    if errnos & _NOT_WRITABLE:
        return EXIT_FAILED, (f"Impossible d'écrire dans le dossier de sortie (droits ou chemin) : "
                             f"vérifiez-le puis relancez egn run ; {kept}")
    return EXIT_FAILED, (f"L'exécution a échoué : relancez egn run, et si l'échec se répète "
                         f"transmettez le journal à l'équipe ; {kept}")


def _causes(error: BaseException) -> tuple[set[str], set[int], Holder | None]:
    """Class names and errno values along the chain of causes, whether the
    error is a Python exception or a step error serialised by Dagster."""
    names: set[str] = set()
    errnos: set[int] = set()
    holder = error.holder if isinstance(error, LockBusy) else None
    pending: list = [error.error if isinstance(error, RunFailed) else error]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        if isinstance(current, BaseException):
            names.add(type(current).__name__)
            if isinstance(current, OSError) and current.errno:
                errnos.add(current.errno)
            pending += [current.__cause__, current.__context__]
        else:  # dagster's SerializableErrorInfo
            names.add(current.cls_name or "")
            message = current.message or ""  # DuckDB's own errors give the system's text, not the number
            errnos |= {code for code in _EXPLAINED if f"[Errno {code}]" in message or os.strerror(code) in message}
            pending += [current.cause, current.context]
    return names, errnos, holder


def _log_details(path: Path, error: BaseException) -> None:
    """The whole story in the log file, for whoever investigates."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_MAX_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} egn run (pid {os.getpid()})\n")
            handle.write("".join(traceback.format_exception(error)))
            if isinstance(error, RunFailed) and error.error is not None:
                handle.write(error.error.to_string() + "\n")
    except OSError:  # the disk may be the very problem: the message is printed anyway
        pass


def materialize_all(chosen: dict, instance: dg.DagsterInstance, quiet: bool = False) -> dg.ExecuteInProcessResult | None:
    """Every asset and check, in one run: the per-file asset over the files
    that changed since they were last processed (none: tables only), then
    the tables and aggregates over all the folder's files. None when the
    instance shows the outputs already published from these very files."""
    files = chosen["raw_folder"].files_by_key()
    keys = sync_partitions(instance, list(files))
    cache = chosen["result_store"].cache
    contents = identities({key: files[key] for key in keys}, chosen["raw_folder"].root)
    stale = [key for key in contents if not cache.is_done(key, contents[key])]
    version = current_version(contents, chosen["raw_folder"].root, cache.model)
    corrections = folder_version(chosen["corrections_folder"].root)
    if not stale and is_published(instance, version, chosen["outputs_folder"].root, corrections):
        return None
    # Imported here: a rerun with nothing to do does not pay for loading every asset.
    from assets.checks import ALL_CHECKS
    from assets.definitions import ALL_ASSETS
    from assets.jobs import PER_FILE, PIPELINE

    # A run covers a range of partitions: from the first stale file to the last
    # (unchanged files in between come from the cache at no cost).
    tags = partition_range_tags(stale) if stale else {}
    if chosen["progress"].echo and len(stale) < len(keys):
        print(f"{len(keys) - len(stale)} fichier(s) inchangé(s) depuis leur dernière lecture.")
    return dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        resources=chosen,
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else None,
        tags={"dagster/from": "egn-cli", **process_tags(), **tags},
        selection=PIPELINE if stale else PIPELINE - PER_FILE,
    )


def sync_partitions(instance: dg.DagsterInstance, keys: list[str]) -> list[str]:
    """Make the partitions match the folder's files, as the sensor does."""
    known = set(instance.get_dynamic_partitions(FILES.name))
    new = [key for key in keys if key not in known]
    gone = [key for key in known if key not in set(keys)]
    if new:
        instance.add_dynamic_partitions(FILES.name, new)
    for key in gone:
        instance.delete_dynamic_partition(FILES.name, key)
    return instance.get_dynamic_partitions(FILES.name)


def _ended(code: int) -> int:
    """A run stopped or failed while the files were read may leave the
    classifier's warm-up loading spaCy in its thread: Python's exit would
    tear the modules down under it, and the process would die of SIGSEGV
    or SIGABRT instead of giving `code`. Everything is printed and logged
    by then, the extraction processes stopped: the process ends at once."""
    if any(thread.name == LOADER_THREAD and thread.is_alive() for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
