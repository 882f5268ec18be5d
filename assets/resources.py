"""Resources: where the files come from and where the results go.

Folders are resources, not constants, so the UI, the nightly schedule and
`egn run` can point the same asset definitions at other folders
(EGN_RAW_DIR, EGN_CORRECTIONS_DIR, EGN_OUTPUTS_DIR), and so the raw folder can later be object
storage behind the same two methods.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from pipeline.classify.versions import SHIPPED, ModelStore
from pipeline.ingest.cache import ResultCache
from pipeline.ingest.sources import list_sources, partition_key, source_name
from pipeline.model import DocumentResult


def _setting(variable: str, default: str) -> str:
    """The field's value: `dg.EnvVar(variable)` when the variable is set, so
    that Dagster reads it when a run starts and the UI shows its name, not a
    value frozen when the code location loaded; else the default (an EnvVar
    cannot carry one). An empty variable counts as unset, as Dagster's own
    reading of it would."""
    return dg.EnvVar(variable) if dg.EnvVar(variable).get_value() else default


def _home_folder(name: str) -> str:
    """A folder under DAGSTER_HOME, or a hidden one in the current folder without it."""
    home = dg.EnvVar("DAGSTER_HOME").get_value()
    return str(Path(home) / f"egn-{name}") if home else f".egn-{name}"


def default_raw_dir() -> str:
    return _setting("EGN_RAW_DIR", "raw")


def default_outputs_dir() -> str:
    return _setting("EGN_OUTPUTS_DIR", "outputs")


def default_models_dir() -> str:
    """Retrained model versions (the shipped model stays in the package)."""
    return _setting("EGN_MODELS_DIR", _home_folder("models"))


def default_corrections_dir(raw_dir: str | None = None) -> str:
    """EGN_CORRECTIONS_DIR, or the `corrections/` folder beside the raw folder."""
    raw = raw_dir or dg.EnvVar("EGN_RAW_DIR").get_value() or "raw"
    return _setting("EGN_CORRECTIONS_DIR", str(Path(raw).parent / "corrections"))


def default_cache_dir() -> str:
    return _setting("EGN_CACHE_DIR", _home_folder("cache"))


CORES = os.cpu_count() or 1


def default_workers() -> int:
    """Extraction processes: EGN_WORKERS, by default one per core."""
    return dg.EnvVar.int("EGN_WORKERS") if dg.EnvVar("EGN_WORKERS").get_value() else CORES


# Beside the per-file results, in the cache folder.
COMPILED_PATTERNS = "regex"


class RawFolder(dg.ConfigurableResource):
    """The folder analysts drop restitutions into. Read only: never written."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def list_files(self) -> list[Path]:
        """The folder's files, and its links leading out of it (to be refused)."""
        return list_sources(self.root)

    def files_by_key(self) -> dict[str, Path]:
        """Each file under its partition key."""
        return {partition_key(p.relative_to(self.root).as_posix()): p for p in self.list_files()}

    def relative(self, path: Path) -> str:
        """The file's name in the outputs (pipeline.ingest.sources.source_name)."""
        return source_name(path.relative_to(self.root).as_posix())


class CorrectionsFolder(dg.ConfigurableResource):
    """The folder analysts drop their corrections into (CSV or XLSX). Read only."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()


class OutputsFolder(dg.ConfigurableResource):
    """The folder the contract's files are published to (see pipeline/publish/folders.py:
    a link to the current complete set), and how long a publication waits
    for another run's publication to finish before giving up."""

    path: str
    wait_seconds: int = 600

    @property
    def root(self) -> Path:
        """The link itself, not the version folder it points to now."""
        return Path(os.path.abspath(self.path))


class Progress(dg.ConfigurableResource):
    """One line per document on standard output, for `egn run`; silent in the UI."""

    echo: bool = False

    def document(self, index: int, total: int, result: DocumentResult, reused: bool = False) -> None:
        if not self.echo:
            return
        detail = result.reason or f"{len(result.items)} énoncés"
        timing = "inchangé" if reused else f"{result.seconds:.1f} s"
        print(f"[{index}/{total}] {result.status:<8} {result.source_file} ({detail}, {timing})", flush=True)

    def say(self, text: str) -> None:
        if self.echo:
            print(text, flush=True)


class ResultStore(dg.ConfigurableResource):
    """Per-file results cached by content hash (see pipeline/ingest/cache.py), the
    classifications by the model version in service (the same models folder
    as ClassifierResource's)."""

    path: str
    models_dir: str = ".egn-models"

    @property
    def cache(self) -> ResultCache:
        active = ModelStore(Path(self.models_dir)).active().name
        return ResultCache(Path(self.path).resolve(), model="" if active == SHIPPED else active)


# The thread that loads the classifier while the files are read.
LOADER_THREAD = "chargement-classifieur"


class ClassifierResource(dg.ConfigurableResource):
    """The spaCy classifier: never loaded when the code location loads, at
    most once per run process, and only when a statement needs classifying
    — a run where every file is already in the cache does not pay the
    seconds the French model takes to load.

    The per-file step starts loading it in a background thread when it has
    files to parse in its extraction processes: the run's own process only
    waits for them meanwhile, and the model is ready when they are done.
    """

    taxonomy_path: str | None = None
    # Where retrained versions and the promotions go (pipeline/classify/versions.py);
    # the version in service is the last one promoted, else the shipped model.
    models_dir: str = ".egn-models"
    # The cache folder, whose COMPILED_PATTERNS folder keeps the large regular
    # expressions of spaCy's French data compiled (pipeline/classify/compiled_patterns.py):
    # seconds off every load but the first. None: compiled at each load.
    cache_dir: str | None = None
    _classifier: object = PrivateAttr(default=None)
    _loader: object = PrivateAttr(default=None)

    def warm_up_in_background(self) -> None:
        if self._classifier is None and self._loader is None:
            self._loader = threading.Thread(target=self._try_load, name=LOADER_THREAD, daemon=True)
            self._loader.start()

    def settle(self) -> None:
        """Wait for a warm-up that turned out not to be needed (no new
        statement): a thread still loading spaCy when the process exits
        makes it abort (blis), after a run that succeeded."""
        if self._loader is not None:
            self._loader.join()
            self._loader = None

    @property
    def classifier(self):
        self.settle()
        if self._classifier is None:  # not warmed up, or the warm-up failed: load here, errors included
            self._load()
        return self._classifier

    def _try_load(self) -> None:
        try:
            self._load()
        except Exception:  # noqa: BLE001 — raised again, where the classifier is used, by the load there
            self._classifier = None

    @property
    def store(self) -> ModelStore:
        return ModelStore(Path(self.models_dir))

    def _load(self) -> None:
        from pipeline.classify.compiled_patterns import compiled_once

        with compiled_once(Path(self.cache_dir) / COMPILED_PATTERNS) if self.cache_dir else nullcontext():
            from pipeline.classify.classifier import Classifier

            self._classifier = Classifier(model_dir=self.store.active().path,
                                          taxonomy_path=Path(self.taxonomy_path) if self.taxonomy_path else None)


class Extraction(dg.ConfigurableResource):
    """How many extraction processes read the new files of a run at once
    (pipeline/ingest/isolation.py); by default one per core."""

    workers: int = CORES

    @property
    def processes(self) -> int:
        return max(1, self.workers)


def location_resources(raw_dir: str | None = None, outputs_dir: str | None = None, cache_dir: str | None = None,
                       echo: bool = False, wait_seconds: int = 600, corrections_dir: str | None = None) -> dict:
    """The resources of every run, as the code location declares them:
    folders given here, else the EGN_* variables (read when a run starts),
    else their defaults."""
    cache_dir = cache_dir or default_cache_dir()
    models_dir = default_models_dir()
    return {
        "raw_folder": RawFolder(path=raw_dir or default_raw_dir()),
        "corrections_folder": CorrectionsFolder(path=corrections_dir or default_corrections_dir(raw_dir)),
        "outputs_folder": OutputsFolder(path=outputs_dir or default_outputs_dir(), wait_seconds=wait_seconds),
        "result_store": ResultStore(path=cache_dir, models_dir=models_dir),
        "progress": Progress(echo=echo),
        "classifier": ClassifierResource(models_dir=models_dir, cache_dir=cache_dir),
        "extraction": Extraction(workers=default_workers()),
    }


def resources(raw_dir: str | None = None, outputs_dir: str | None = None, cache_dir: str | None = None,
              echo: bool = False, wait_seconds: int = 600, corrections_dir: str | None = None) -> dict:
    """The same resources with their variables read now: `egn run` and the
    tests also use them outside a run (to list the files, look in the cache),
    where Dagster has not resolved them."""
    chosen = location_resources(raw_dir, outputs_dir, cache_dir, echo, wait_seconds, corrections_dir)
    return {name: resource.process_config_and_initialize() for name, resource in chosen.items()}
