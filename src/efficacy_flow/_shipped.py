"""The folder of processes this release ships, found the same way under every install."""

from __future__ import annotations

from pathlib import Path

from efficacy_flow.errors import NotFound

__all__ = ["shipped_processes"]

_PACKAGE = Path(__file__).resolve().parent
#: In a wheel: the repository's processes/ folder, copied in by pyproject.toml's force-include.
_IN_PACKAGE = _PACKAGE / "_processes"
#: In a source checkout (``PYTHONPATH=src``) and an editable install (which runs the checkout's src/): the
#: repository's own processes/ folder, two levels above the package. Only looked at from a src/ layout.
_IN_CHECKOUT = _PACKAGE.parent.parent / "processes"
#: A file every shipped folder has; a folder without it is not ours.
_MARKER = "complaint_closure.bpmn"


def shipped_processes() -> Path:
    """The folder of BPMN, DMN and YAML files this release ships, as an absolute path.

    Pass it as ``Engine(processes=shipped_processes())`` to run the shipped processes (complaint_closure,
    window_escalation, accountability, supervision_ladder, task_ledger), or copy the folder to start your own.
    It does not depend on the working directory: a wheel install finds the copy inside the installed package,
    an editable install and a source checkout find the checkout's ``processes/`` (the files designers edit).
    Treat it as read-only: in a checkout it is the repository's own folder.

    Raises:
        NotFound: neither place holds the processes (a broken install); ``searched`` lists the folders tried.
    """
    candidates = [_IN_PACKAGE]
    if _PACKAGE.parent.name == "src":
        candidates.append(_IN_CHECKOUT)
    for folder in candidates:
        if (folder / _MARKER).is_file():
            return folder
    searched = [str(folder) for folder in candidates]
    raise NotFound(
        f"the shipped processes are not installed (looked in {', '.join(searched)}); reinstall efficacy-flow",
        searched=searched,
    )
