"""Test-suite wide settings."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The machine is shared and noisy: Hypothesis must judge behaviour, never speed.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")
