"""A started instance (bootstrap: default organization, admin, signing key) on both engines, and
helpers to apply world files given as YAML text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.apply import schema
from bergfried.apply.execute import Outcome, apply_world
from bergfried.bootstrap import bootstrap
from bergfried.services import Services
from tests.conftest import make_settings

PASSWORD = "Password1!"


@pytest.fixture
async def started(engine: AsyncEngine, tmp_path: Path) -> Services:
    """Services on a database where the first instance exists, as after `bergfried start`."""
    services = services_module.build(make_settings(tmp_path, firstinstance_admin_password=PASSWORD), engine=engine)
    await bootstrap(services)
    return services


async def apply_text(services: Services, text: str, tmp_path: Path, **options: Any) -> Outcome:
    world = schema.parse(yaml.safe_load(text), "world.yaml")
    options.setdefault("environ", {})
    return await apply_world(services, world, base_dir=tmp_path, source="world.yaml", **options)


def rendered(outcome: Outcome) -> list[str]:
    return [action.render() for action in outcome.actions]
