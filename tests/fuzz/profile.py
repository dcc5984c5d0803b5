"""How hard the fuzz tests push. The default keeps CI short; `BERGFRIED_FUZZ_PROFILE=long` runs
many more examples per test (docs/security.md):

    BERGFRIED_FUZZ_PROFILE=long .venv/bin/pytest tests/fuzz tests/oidc/test_fuzz_*.py tests/api/test_schemathesis.py
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG = os.environ.get("BERGFRIED_FUZZ_PROFILE", "").strip().lower() == "long"
FACTOR = 40


def examples(default: int) -> int:
    return default * FACTOR if LONG else default


def fuzz_settings(default: int) -> settings:
    """The settings of one fuzz test: `default` examples (more under the long profile), no deadline
    (a busy machine is slow), and random every run under the long profile only, so that CI's runs
    repeat."""
    return settings(max_examples=examples(default), deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=list(HealthCheck))
