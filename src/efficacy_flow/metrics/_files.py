"""Writing the files the metrics produce (reports, event logs): all or nothing under the name asked for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from efficacy_flow.errors import InvalidInput

__all__ = ["replace_file"]


def replace_file(target: Path, write: Callable[[IO[str]], object], *, encoding: str = "utf-8") -> Path:
    """Write through ``write(handle)`` into a file beside ``target``, then rename it into place, so a failed
    write leaves nothing under ``target``'s name; return ``target``.

    Raises:
        InvalidInput: the file cannot be written (the folder is missing, no permission, ...).
    """
    part = target.with_name(target.name + ".part")
    try:
        with part.open("w", encoding=encoding, newline="\n") as handle:
            write(handle)
        part.replace(target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {target}: {exc.strerror or exc}", path=str(target)) from exc
    return target
