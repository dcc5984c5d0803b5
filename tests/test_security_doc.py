"""docs/security.md ties each item to a test: every `file::test` it names must exist, so that a
renamed or removed test cannot leave an item without its proof."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FILE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")
_SAME_FILE = re.compile(r"::(\w+)")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_the_security_checklist_names_exists() -> None:
    named: list[tuple[str, str | None]] = []
    for line in (ROOT / "docs" / "security.md").read_text(encoding="utf-8").splitlines():
        last: str | None = None
        for token in re.findall(r"`([^`]+)`", line):
            if found := _FILE.fullmatch(token):
                last = found.group(1)
                named.append((last, found.group(2)))
            elif (same := _SAME_FILE.fullmatch(token)) and last is not None:
                named.append((last, same.group(1)))
    assert len(named) > 100
    missing = []
    for file, test in named:
        path = ROOT / file
        if not path.exists() or (test is not None and test not in _functions(path)):
            missing.append(f"{file}::{test}" if test else file)
    assert not missing, missing
