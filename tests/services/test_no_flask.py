"""Services hold the rules and never import Flask (services/README.md)."""

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "anthias_edge" / "services"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_module_imports_flask_or_werkzeug():
    offenders = {
        str(path.relative_to(SERVICES)): sorted(name for name in _imported_modules(path)
                          if name.split(".")[0] in ("flask", "werkzeug"))
        for path in SERVICES.rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    assert len(offenders) >= 10  # the walk really saw the service modules
