"""The project as a wheel (`pip install .`, not editable): every data file
ships, and `egn run` works from the installed copy alone."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_holds_every_data_file_and_runs(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"),
                    str(PROJECT)], check=True, capture_output=True, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    for folder in ("pipeline/data", "pipeline/publish/templates", "pipeline/classify/model"):  # whatever is there, at any depth
        shipped = {p.relative_to(site).as_posix() for p in (site / folder).rglob("*") if p.is_file()}
        expected = {p.relative_to(PROJECT).as_posix() for p in (PROJECT / folder).rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts}
        assert shipped == expected
    assert (site / "pipeline" / "classify" / "config.cfg").is_file()

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("sarthe-72.docx", "sarthe-72.pdf"):
        shutil.copy(CORPUS / name, raw / name)
    # Run outside the project, with the installed copy first on the path
    # (ahead of the editable install of the test environment).
    env = {"PATH": "", "PYTHONPATH": str(site), "EGN_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.run([sys.executable, "-c", "import pipeline, assets; print(pipeline.__file__, assets.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert all(path.startswith(str(site)) for path in where.stdout.split())
    completed = subprocess.run([sys.executable, "-m", "assets.cli", "run", "--raw", "raw", "--outputs", "outputs"],
                               env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    with (tmp_path / "outputs" / "documents.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["status"] for row in csv.DictReader(handle)] == ["ok", "ok"]
    with (tmp_path / "outputs" / "items.csv").open(encoding="utf-8", newline="") as handle:
        assert any(row["category"] for row in csv.DictReader(handle))  # the model and taxonomy were found
