"""The HTTP service (``efficacy-flow serve``): the engine's API over HTTP with FastAPI (docs/service.md).

:func:`create_app` builds the app over an :class:`~efficacy_flow.Engine`; :class:`ServiceSettings` reads
``service.yaml`` (bearer tokens as SHA-256 hashes, limits); an :class:`Authenticator` is the seam for a
host's single sign-on. :func:`run_worker` is the loop of ``efficacy-flow worker``.
"""

from __future__ import annotations

from efficacy_flow import _public
from efficacy_flow.service._app import API_PREFIX, create_app
from efficacy_flow.service._auth import AuthenticationFailed, Authenticator, TokenAuthenticator, hash_token
from efficacy_flow.service._problems import ERROR_STATUS
from efficacy_flow.service._run import ENVIRONMENT, app_from_environment, open_engine, run_worker
from efficacy_flow.service._settings import RateLimit, ServiceSettings, TokenSettings

__all__ = [
    "API_PREFIX",
    "ENVIRONMENT",
    "ERROR_STATUS",
    "AuthenticationFailed",
    "Authenticator",
    "RateLimit",
    "ServiceSettings",
    "TokenAuthenticator",
    "TokenSettings",
    "app_from_environment",
    "create_app",
    "hash_token",
    "open_engine",
    "run_worker",
]

_public.publish(globals())
