"""How the web desk's modules depend on each other: app.py composes the pages, no page imports app.py."""
from __future__ import annotations

import ast
from pathlib import Path

import central.web

WEB = Path(central.web.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_web_module_imports_the_app_that_composes_them():
    importers = [path.name for path in WEB.glob("*.py")
                 if path.name not in ("app.py", "__init__.py", "server.py")
                 and "central.web.app" in imported_modules(path)]
    assert importers == []
