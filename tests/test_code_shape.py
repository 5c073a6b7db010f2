"""The codebase keeps the shape STYLE.md asks for: small modules, documented public code."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("anthias_edge", "player", "web_ui", "cloud_sync")
MAX_LINES = 600


def _modules():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_no_module_grows_past_the_review_limit():
    too_long = {str(p.relative_to(ROOT)): n for p in _modules()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}


def test_every_module_opens_with_a_docstring():
    missing = [str(p.relative_to(ROOT)) for p in _modules()
               if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
               and "migrations" not in p.parts]
    assert missing == []


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for path in _modules():
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            public = isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name[0] != "_"
            if public and ast.get_docstring(node) is None:
                missing.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert missing == []
