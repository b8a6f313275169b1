"""The shipped processes are found the same way under every install, from any working directory.

Each test installs a copy of the project for real (the files a clone has: pyproject.toml, README.md, src/,
processes/) and runs ``efficacy-flow demo`` in a working directory that has no processes/ folder: from a wheel
built by hatchling and installed into a fresh virtual environment, from ``pip install -e`` into another, and
from the source tree on ``PYTHONPATH``. Each must print the report this checkout prints for the same seed,
and ``efficacy_flow.shipped_processes()`` must point where that install keeps the files. The two installs
fetch the dependencies from the package index and take a minute or more each: they are marked slow.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import efficacy_flow
from efficacy_flow.cli import main

ROOT = Path(__file__).resolve().parents[2]
TICKETS = "20"
#: Prints where efficacy_flow was imported from and where it finds the shipped processes.
PROBE = "import efficacy_flow; print(efficacy_flow.__file__); print(efficacy_flow.shipped_processes())"


@pytest.fixture(scope="module")
def checkout_report() -> str:
    """The demo's report for ``--tickets 20``, run in this process on the checkout's processes/."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", "--tickets", TICKETS, "--processes", str(ROOT / "processes")])
    assert code == 0, err.getvalue()
    return out.getvalue()


def _copy_project(destination: Path) -> Path:
    """What a fresh clone holds of the project that the build and the install read."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    destination.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    for name in ("src", "processes"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    return destination


def _environment(**extra: str) -> dict[str, str]:
    # Nothing of this test run's interpreter may leak into the install under test.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return env | extra


def _run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env or _environment(),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done.stdout


def _venv(path: Path) -> Path:
    """A fresh virtual environment's bin folder."""
    _run([sys.executable, "-m", "venv", path], cwd=path.parent)
    return path / ("Scripts" if os.name == "nt" else "bin")


def _check(
    command: list[str | Path], python: list[str | Path], cwd: Path, env: dict[str, str], package: Path
) -> tuple[str, Path]:
    """Run the demo, ``--version`` and the probe with an install; return (the report, the shipped folder)."""
    assert not (cwd / "processes").exists()
    report = _run([*command, "demo", "--tickets", TICKETS], cwd, env)
    version = _run([*command, "--version"], cwd, env)
    assert version == f"efficacy-flow {efficacy_flow.__version__}\n"
    module_file, folder = (Path(line) for line in _run([*python, "-c", PROBE], cwd, env).splitlines())
    assert module_file.is_relative_to(package), module_file
    assert (folder / "complaint_closure.bpmn").is_file()
    return report, folder


@pytest.mark.slow
def test_wheel_install_runs_the_demo_from_anywhere(tmp_path: Path, checkout_report: str) -> None:
    """A wheel carries the processes inside the package; installed into a fresh venv, the demo run from an
    empty directory prints the checkout's report and ``shipped_processes()`` is the installed copy."""
    project = _copy_project(tmp_path / "efficacy-flow")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", project], tmp_path
    )
    (wheel,) = (tmp_path / "dist").glob("efficacy_flow-*.whl")
    assert "efficacy_flow/_processes/complaint_closure.bpmn" in zipfile.ZipFile(wheel).namelist()
    bin_dir = _venv(tmp_path / "venv")
    _run([bin_dir / "python", "-m", "pip", "install", "-q", wheel], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = tmp_path / "venv"
    report, folder = _check(
        [bin_dir / "efficacy-flow"], [bin_dir / "python"], elsewhere, _environment(), site
    )
    assert report == checkout_report
    assert folder.is_relative_to(site)
    assert folder.name == "_processes"


@pytest.mark.slow
def test_editable_install_runs_the_demo_from_anywhere(tmp_path: Path, checkout_report: str) -> None:
    """An editable install runs the checkout's src/, which has no copy of the processes: the demo still finds
    them (the checkout's processes/, the files designers edit) from an empty directory."""
    project = _copy_project(tmp_path / "efficacy-flow")
    bin_dir = _venv(tmp_path / "venv")
    _run([bin_dir / "python", "-m", "pip", "install", "-q", "-e", project], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _environment()
    report, folder = _check(
        [bin_dir / "efficacy-flow"], [bin_dir / "python"], elsewhere, env, project / "src"
    )
    assert report == checkout_report
    assert folder == project / "processes"


def test_source_checkout_runs_the_demo_from_anywhere(tmp_path: Path, checkout_report: str) -> None:
    """With only ``PYTHONPATH=src`` (no install of the project), ``python -m efficacy_flow.cli demo`` run from
    an empty directory finds the checkout's processes/ and prints the same report."""
    project = _copy_project(tmp_path / "efficacy-flow")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _environment(PYTHONPATH=str(project / "src"))
    python: list[str | Path] = [sys.executable]
    report, folder = _check(
        [sys.executable, "-m", "efficacy_flow.cli"], python, elsewhere, env, project / "src"
    )
    assert report == checkout_report
    assert folder == project / "processes"


def test_a_package_without_its_processes_says_where_it_looked(tmp_path: Path) -> None:
    """A copy of the package with neither the wheel's copy nor a checkout around it (a broken install):
    ``shipped_processes()`` raises NotFound naming the folder it tried, and the demo exits 2 with that message
    instead of a traceback."""
    lib = tmp_path / "lib"
    shutil.copytree(
        ROOT / "src" / "efficacy_flow", lib / "efficacy_flow", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = _environment(PYTHONPATH=str(lib))
    probe = (
        "import efficacy_flow\n"
        "try:\n"
        "    efficacy_flow.shipped_processes()\n"
        "except efficacy_flow.NotFound as error:\n"
        "    print(type(error).__name__, error.searched)\n"
    )
    printed = _run([sys.executable, "-c", probe], tmp_path, env)
    assert printed == f"NotFound {[str(lib / 'efficacy_flow' / '_processes')]}\n"
    done = subprocess.run(
        [sys.executable, "-m", "efficacy_flow.cli", "demo", "--tickets", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "the shipped processes are not installed" in done.stderr
