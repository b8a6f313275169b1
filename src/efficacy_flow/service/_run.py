"""Running the service and the worker: the engine from a store URL and a processes folder, the app for each
uvicorn worker process, and the loop of ``efficacy-flow worker``."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from fastapi import FastAPI

from efficacy_flow import Engine, china, shipped_processes
from efficacy_flow.clock import SystemClock
from efficacy_flow.errors import EfficacyFlowError, InvalidInput
from efficacy_flow.service._app import create_app
from efficacy_flow.service._settings import ServiceSettings

__all__ = ["ENVIRONMENT", "app_from_environment", "open_engine", "run_worker"]

#: The variables ``efficacy-flow serve`` hands each uvicorn worker process (read by app_from_environment).
ENVIRONMENT = {
    "store": "EFFICACY_FLOW_STORE",
    "processes": "EFFICACY_FLOW_PROCESSES",
    "config": "EFFICACY_FLOW_SERVICE_CONFIG",
}

log = logging.getLogger("efficacy_flow.worker")


def open_engine(store: str, processes: str | Path | None = None) -> Engine:
    """An engine on ``store`` running ``processes`` (default the shipped ones), on the China calendar and the
    system clock."""
    folder = processes if processes is not None else shipped_processes()
    return Engine(store=store, processes=folder, calendar=china(), clock=SystemClock())


def app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process, built from :data:`ENVIRONMENT` (uvicorn's ``--factory``).

    Raises:
        InvalidInput: no store named.
    """
    store = os.environ.get(ENVIRONMENT["store"])
    if not store:
        raise InvalidInput(f"{ENVIRONMENT['store']} must name the store", argument="store")
    config = os.environ.get(ENVIRONMENT["config"])
    settings = ServiceSettings.from_yaml(config) if config else ServiceSettings()
    return create_app(open_engine(store, os.environ.get(ENVIRONMENT["processes"]) or None), settings)


def run_worker(engine: Engine, interval: float, stop: threading.Event) -> int:
    """Call ``engine.tick()`` every ``interval`` seconds until ``stop`` is set; return the timers fired.

    A tick that fails (the database away) is logged and tried again at the next interval; a tick that fired
    a full batch runs again at once (more may be due).
    """
    fired = 0
    while not stop.is_set():
        try:
            batch = engine.tick()
        except EfficacyFlowError as error:
            log.error("tick failed: %s", error)
            batch = []
        fired += len(batch)
        for timer in batch:
            log.info("fired %s of %s", timer.element_id, timer.instance_id)
        if not batch:
            stop.wait(interval)
    return fired
