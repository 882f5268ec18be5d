"""National-scale benchmark: `make bench` (python bench/run.py).

Measures, in one run on this machine, and writes bench/results.json:
- the floor: bare pdfplumber `extract_tables()` over every PDF page and bare
  python-docx table reading, to which extraction is compared — also file
  by file, in turn with our processing of the same file;
- a full run from an empty state (`egn run` in a fresh DAGSTER_HOME and
  cache) with 1 and with 2 extraction processes: wall, CPU, peak memory
  (of the largest process, and of the whole process tree: the run, its
  fork server and its extraction processes together), per step, per page;
- a rerun with nothing changed, and a rerun after one file changed;
- classification throughput and model load time;
- OCR seconds per page of a scan, beside a bare `tesseract -l fra` on the
  same page images (Tesseract is most of the cost; the rest is ours);
- under a real `dagster-daemon` (the sensors running, runs launched as
  `make dev` launches them), the first start over a folder of many files
  (the dev corpus when present, else the test fixtures), beside `egn run`
  on the same files, then one file dropped: the seconds from the sensor
  tick that sees it to the report rewritten;
- the floor again at the end: this shared machine's speed drifts by tens of
  percent between runs, so the two floors bound the figures in between.
The corpus is ../shared/corpus/national/raw when present; otherwise one
the script builds from the test fixtures (copies made distinct).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.05  # how often the process tree's memory is sampled
NATIONAL = ROOT.parent / "shared" / "corpus" / "national" / "raw"
FIXTURES = ROOT / "tests" / "fixtures" / "corpus"
DEV = ROOT.parent / "shared" / "corpus" / "dev" / "raw"
DAEMON_POLL_SECONDS = 0.2  # how often the daemon's runs and the published outputs are looked at
DAEMON_DEADLINE_SECONDS = 1800  # a measured phase taking longer than this stops the bench
DAEMON_STOP_SECONDS = 60  # the daemon's grace period on SIGTERM
DAEMON_SETTLE_SECONDS = 35  # longer than the sensors' 30 s interval
FILE_SENSOR = "nouveaux_fichiers"
SCANS = [ROOT / "tests" / "fixtures" / "generated" / "scan_sarthe-72_p3-4.pdf"]


def build_corpus(target: Path, copies: int = 6) -> Path:
    """A stand-in corpus when the national one is absent: the fixtures that
    are restitutions, each copied a few times with a distinct trailing byte."""
    target.mkdir(parents=True, exist_ok=True)
    sources = [p for p in FIXTURES.iterdir() if p.suffix in (".pdf", ".docx") and p.stat().st_size > 30_000]
    for n in range(copies):
        for source in sources:
            data = source.read_bytes()
            if source.suffix == ".pdf":
                data += f"\n% copie {n}\n".encode()
            (target / f"{n:02d}_{source.name}").write_bytes(data)
    return target


def floor(raw: Path) -> dict:
    """Bare library cost: pdfplumber tables of every page, python-docx tables."""
    pdf_s = docx_s = 0.0
    pdf_pages = 0
    for path in sorted(raw.iterdir()):
        kind, seconds, pages = floor_one(path)
        if kind == "pdf":
            pdf_s, pdf_pages = pdf_s + seconds, pdf_pages + pages
        elif kind == "docx":
            docx_s += seconds
    return {"pdf_s": round(pdf_s, 2), "pdf_pages": pdf_pages, "pdf_ms_per_page": round(1000 * pdf_s / max(pdf_pages, 1), 1),
            "docx_s": round(docx_s, 2), "total_s": round(pdf_s + docx_s, 2)}


def floor_one(path: Path) -> tuple[str, float, int]:
    import docx
    import pdfplumber

    started, pages = time.perf_counter(), 0
    if path.suffix.lower() == ".pdf":
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                try:
                    page.extract_tables()
                    pages += 1
                finally:
                    page.close()
        return "pdf", time.perf_counter() - started, pages
    if path.suffix.lower() == ".docx":
        document = docx.Document(str(path))
        for table in document.tables:
            for row in table.rows:
                [cell.text for cell in row.cells]
        return "docx", time.perf_counter() - started, 0
    return "other", 0.0, 0


def interleaved(raw: Path) -> dict:
    """Our whole per-file processing (sniffing, reading, parsing,
    normalising) against the floor, file by file in turn in one process, so
    that the machine's drift weighs on both alike."""
    from pipeline.ingest.process import process_file

    floor_s = ours_s = 0.0
    for path in sorted(raw.iterdir()):
        floor_s += floor_one(path)[1]
        started = time.perf_counter()
        process_file(path, raw)
        ours_s += time.perf_counter() - started
    return {"floor_s": round(floor_s, 2), "process_file_s": round(ours_s, 2), "ratio": round(ours_s / floor_s, 2)}


def adopt_orphans() -> None:
    """Become the reaper of orphaned descendants (Linux): the extraction
    workers are children of a fork server that outlives `egn run` by a
    moment, and only a reaped process's CPU time reaches RUSAGE_CHILDREN."""
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def reap_descendants() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def egn_run(raw: Path, work: Path, workers: int) -> dict:
    """One `egn run` in its own process; wall, CPU and peak RSS of the run
    and of every process it started."""
    env = {**os.environ, "DAGSTER_HOME": str(work / "home"), "EGN_CACHE_DIR": str(work / "cache"),
           "EGN_WORKERS": str(workers)}
    (work / "home").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", work / "home" / "dagster.yaml")
    runs_before = run_ids(work / "home")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with TreeMemory() as tree:
        done = subprocess.run([str(Path(sys.executable).parent / "egn"), "run", "--raw", str(raw),
                               "--outputs", str(work / "out")], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    reap_descendants()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "peak_rss_mib": round(after.ru_maxrss / 1024),  # largest single process so far
        "tree_peak_rss_mib": round(tree.peak / 2**20),  # every process of the run at once
        # No run at all when nothing changed since the last publication.
        **(run_figures(work / "home") if run_ids(work / "home") != runs_before else {"steps_s": {}}),
        "documents_s": document_seconds(work / "cache"),
    }


class TreeMemory:
    """The peak, while the block runs, of the resident memory summed over
    every descendant of this process (the run, its fork server, its
    extraction processes: orphans stay ours, see adopt_orphans), sampled
    from /proc. Pages shared between processes count once per process:
    an upper bound, as a memory limit on the whole tree would see it."""

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._sampler.join()

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, sum(resident_pages(pid) for pid in descendants(os.getpid())) * page)


def descendants(root: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended meanwhile
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def resident_pages(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def run_ids(home: Path) -> list[str]:
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        return [run.run_id for run in instance.get_runs()]


def run_figures(home: Path) -> dict:
    """Per-step wall time of the latest run, and the per-file step's own
    split between reading and classifying (its summary observation)."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        steps, stages = {}, {}
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event and event.event_type_value == "STEP_SUCCESS":
                steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 2)
            elif event and event.event_type_value == "ASSET_OBSERVATION" and event.step_key == "document":
                metadata = event.event_specific_data.asset_observation.metadata
                stages = {"reading_s": metadata["durée de lecture (s)"].value,
                          "classification_s": metadata["durée du classement (s)"].value,
                          "statements_classified": metadata["énoncés classés"].value}
    return {"steps_s": steps, "document_step": stages}


def document_seconds(cache: Path) -> dict:
    """Extraction time by format, from the cached per-file results."""
    import pickle

    totals: dict[str, dict] = {}
    for path in (cache / "extraction").rglob("*.pickle"):
        result = pickle.loads(path.read_bytes())
        entry = totals.setdefault(result.format, {"files": 0, "seconds": 0.0, "pages": 0})
        entry["files"] += 1
        entry["seconds"] = round(entry["seconds"] + result.seconds, 2)
        entry["pages"] += result.n_pages or 0
    for entry in totals.values():
        if entry["pages"]:
            entry["ms_per_page"] = round(1000 * entry["seconds"] / entry["pages"], 1)
    return totals


def classifier_figures(raw_texts: int = 4000) -> dict:
    from pipeline.classify.evaluate import throughput
    from pipeline.classify.labelled import own_records

    texts = [r["text"] for r in own_records()]
    return throughput(texts, repeat=max(1, raw_texts // len(texts)))


def ocr_figures(scans: list[Path], work: Path) -> dict:
    """Our OCR of each scan against bare Tesseract on the very page images
    we read (rendered at the scan's resolution), one page at a time."""
    import pypdfium2 as pdfium

    from pipeline.ingest.readers import ocr
    from pipeline.ingest.readers.pdf_reader import ScannedPdf
    from pipeline.ingest.readers.tesseract import LANGUAGE, engine

    if engine() is None:
        return {"error": "Tesseract (fra) is not installed"}
    bare_s = ours_s = 0.0
    pages = 0
    for scan in scans:
        document = pdfium.PdfDocument(str(scan))
        images = []
        for index in range(len(document)):
            page = document[index]
            image = work / f"{scan.stem}-{index}.png"
            page.render(scale=(ocr._scan_dpi(page) or ocr.MIN_DPI) / 72, grayscale=True).to_pil().save(image)
            images.append(image)
            page.close()
        document.close()
        started = time.perf_counter()
        for image in images:
            subprocess.run(["tesseract", str(image), "stdout", "-l", LANGUAGE], check=True,
                           capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        bare_s += time.perf_counter() - started
        started = time.perf_counter()
        ocr.read_scan(scan.read_bytes(), ScannedPdf(len(images)))
        ours_s += time.perf_counter() - started
        pages += len(images)
    return {"pages": pages, "ocr_s_per_page": round(ours_s / pages, 2),
            "bare_tesseract_s_per_page": round(bare_s / pages, 2), "ocr_vs_bare": round(ours_s / bare_s, 2)}


class DaemonBench:
    """A `dagster-daemon` (sensors, run queue, run launcher: what `make dev`
    starts beside the UI) on fresh folders, and what it did, read from its
    instance: runs, the sensor ticks that requested them, the outputs'
    manifest."""

    def __init__(self, work: Path) -> None:
        self.home, self.raw, self.outputs = work / "home", work / "raw", work / "outputs"
        self.home.mkdir(parents=True)
        shutil.copy(ROOT / "deploy" / "dagster.local.yaml", self.home / "dagster.yaml")
        self.env = {**os.environ, "DAGSTER_HOME": str(self.home), "EGN_RAW_DIR": str(self.raw),
                    "EGN_OUTPUTS_DIR": str(self.outputs), "EGN_CACHE_DIR": str(work / "cache"),
                    "EGN_MODELS_DIR": str(work / "models")}
        self.log = work / "daemon.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        with self.instance():  # its storage created here: the daemon and this process would race to create it
            pass
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return time.time()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=DAEMON_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def instance(self):
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.home))

    def wait_for_publication(self, after_run_ids: set[str]) -> dict:
        """Wait for the first run of the file sensor not in `after_run_ids`
        to end; its figures. It must have published the outputs."""
        deadline = time.monotonic() + DAEMON_DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"dagster-daemon exited: see {self.log}")
            with self.instance() as instance:
                runs = [run for run in instance.get_runs(runs_of(FILE_SENSOR)) if run.run_id not in after_run_ids]
                if runs and runs[-1].is_finished:
                    return self._figures(instance, instance.get_run_record_by_id(runs[-1].run_id))
            time.sleep(DAEMON_POLL_SECONDS)
        raise SystemExit(f"no run of {FILE_SENSOR} within {DAEMON_DEADLINE_SECONDS} s: see {self.log}")

    def run_ids(self) -> set[str]:
        with self.instance() as instance:
            return {run.run_id for run in instance.get_runs()}

    @staticmethod
    def _figures(instance, record) -> dict:
        import dagster as dg

        run = record.dagster_run
        if run.status != dg.DagsterRunStatus.SUCCESS:
            raise SystemExit(f"run {run.run_id} of {run.job_name} ended {run.status.value}")
        tick = instance.schedule_storage.get_tick(int(run.tags["dagster/tick"]))
        same_tick = [r for r in instance.get_runs() if r.tags.get("dagster/tick") == run.tags["dagster/tick"]]
        steps, published = {}, None
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event and event.event_type_value == "STEP_SUCCESS":
                steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 2)
            elif event and event.is_step_materialization and event.asset_key == dg.AssetKey("publication"):
                published = entry.timestamp  # the outputs, report included, were swapped in just before
        if published is None:
            raise SystemExit(f"run {run.run_id} published nothing")
        return {
            "job": run.job_name,
            "runs_requested_by_the_tick": len(same_tick),
            "files_in_the_run": _range_size(instance, run.tags),
            "tick_at": tick.timestamp,
            "tick_to_run_start_s": round(record.start_time - tick.timestamp, 2),
            "run_wall_s": round(record.end_time - record.start_time, 2),
            "tick_to_report_s": round(published - tick.timestamp, 2),
            "steps_s": steps,
        }


def runs_of(sensor: str):
    """The runs a sensor requested."""
    import dagster as dg

    return dg.RunsFilter(tags={"dagster/sensor_name": sensor})


def _range_size(instance, tags: dict) -> int:
    keys = instance.get_dynamic_partitions("fichiers")
    start, end = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    return keys.index(end) - keys.index(start) + 1 if start in keys and end in keys else 0


def daemon_figures(raw: Path, work: Path) -> dict:
    """The analyst's day under a real daemon: `make dev` on a folder of
    files (first start), then one file dropped into it. `egn run` over the
    same files, from an empty state too, is the yardstick of the first start."""
    bench = DaemonBench(work / "daemon")
    shutil.copytree(raw, bench.raw)
    drop = min(bench.raw.glob("*.pdf"))
    dropped = bench.raw.parent / f"depot_{drop.name}"
    dropped.write_bytes(drop.read_bytes() + b"\n% depose\n")  # new bytes: read, not taken from the cache
    # The machine's load, before and after: the other processes' share of its cores.
    figures: dict = {"corpus": str(raw), "files": len(list(bench.raw.iterdir())),
                     "load_average_before": round(os.getloadavg()[0], 2)}
    figures["egn_run_wall_s"] = egn_run(bench.raw, work / "egn", workers=os.cpu_count() or 1)["wall_s"]
    try:
        started = bench.start()
        first = bench.wait_for_publication(set())
        first["daemon_start_to_tick_s"] = round(first["tick_at"] - started, 2)
        first["daemon_start_to_report_s"] = round(first["daemon_start_to_tick_s"] + first["tick_to_report_s"], 2)
        figures["first_start"] = first
        before = bench.run_ids()
        shutil.move(dropped, bench.raw / dropped.name)
        dropped_at = time.time()
        figures["one_file_dropped"] = {"file": dropped.name, **bench.wait_for_publication(before)}
        figures["one_file_dropped"]["drop_to_tick_s"] = round(figures["one_file_dropped"]["tick_at"] - dropped_at, 2)
        # Runs launched by anything (other sensors, automation) until the
        # sensors have all looked again: one per tick that saw files expected.
        time.sleep(DAEMON_SETTLE_SECONDS)
        figures["runs_in_all"] = len(bench.run_ids())
    finally:
        bench.stop()
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    for phase in ("first_start", "one_file_dropped"):
        figures[phase]["tick_at"] = datetime.fromtimestamp(figures[phase]["tick_at"]).isoformat(timespec="seconds")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=NATIONAL if NATIONAL.is_dir() else None)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--daemon-raw", type=Path, default=DEV if DEV.is_dir() else FIXTURES,
                        help="the folder of the daemon's first start (default: the dev corpus, else the fixtures)")
    parser.add_argument("--daemon-only", action="store_true",
                        help="measure only under the daemon; the other figures of --output are kept")
    args = parser.parse_args()
    adopt_orphans()
    if args.daemon_only:
        with tempfile.TemporaryDirectory(prefix="egn-bench-") as tmp:
            report = json.loads(args.output.read_text()) if args.output.exists() else {}
            report["daemon"] = daemon_figures(args.daemon_raw, Path(tmp))
        args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print("daemon:", json.dumps(report["daemon"], indent=2, ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="egn-bench-") as tmp:
        tmp = Path(tmp)
        raw = args.raw or build_corpus(tmp / "generated")
        copy = tmp / "raw"
        shutil.copytree(raw, copy)
        report = {"corpus": str(raw), "files": len(list(copy.iterdir())), "cores": os.cpu_count()}
        report["floor"] = floor(copy)
        report["extraction_interleaved"] = interleaved(copy)
        report["full_1_process"] = egn_run(copy, tmp / "one", workers=1)
        report["full_2_processes"] = egn_run(copy, tmp / "two", workers=2)
        report["no_change"] = egn_run(copy, tmp / "two", workers=2)
        changed = sorted(copy.glob("*.pdf"))[0]
        changed.write_bytes(changed.read_bytes() + b"\n% modifie\n")
        report["one_file_changed"] = egn_run(copy, tmp / "two", workers=2)
        report["classifier"] = classifier_figures()
        report["ocr"] = ocr_figures(SCANS, tmp)
        report["daemon"] = daemon_figures(args.daemon_raw, tmp / "daemon")
        # The machine's speed drifts (shared host): the floor again, after the runs.
        report["floor_after"] = floor(copy)
    full = report["full_2_processes"]

    def reading(run: dict) -> float:
        return run.get("document_step", {}).get("reading_s", 0.0)

    report["ratios"] = {
        "extraction_vs_floor_1_process": round(reading(report["full_1_process"]) / report["floor"]["total_s"], 2),
        "extraction_vs_floor_2_processes": round(reading(full) / report["floor"]["total_s"], 2),
        "no_change_vs_full": round(report["no_change"]["wall_s"] / full["wall_s"], 3),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(report)


def print_table(report: dict) -> None:
    rows = [("floor (pdfplumber + python-docx)", report["floor"]["total_s"], "", "", "")]
    for name in ("full_1_process", "full_2_processes", "no_change", "one_file_changed"):
        run = report[name]
        rows.append((name, run["wall_s"], run["cpu_s"], run["peak_rss_mib"], run["tree_peak_rss_mib"]))
    rows.append(("floor again, after the runs", report["floor_after"]["total_s"], "", "", ""))
    print(f"{'measure':<36}{'wall s':>10}{'cpu s':>10}{'rss MiB':>10}{'tree MiB':>10}")
    for name, wall, cpu, rss, tree in rows:
        print(f"{name:<36}{wall!s:>10}{cpu!s:>10}{rss!s:>10}{tree!s:>10}")
    print("per-file step of the 2-process run:", json.dumps(report["full_2_processes"].get("document_step", {})))
    print("ratios:", json.dumps(report["ratios"]))
    print("extraction vs floor, file by file in one process:", json.dumps(report["extraction_interleaved"]))
    print("classifier:", json.dumps(report["classifier"]))
    print("OCR:", json.dumps(report["ocr"]))
    print("daemon:", json.dumps(report["daemon"], indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
