"""The codebase keeps the shape STYLE.md asks for: small modules, documented public code, and
the import rules of docs/ARCHITECTURE.md (layers point down, versions apart, no circles)."""

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# The import rules of docs/ARCHITECTURE.md. "Imports" means every import statement in a file,
# inside functions too (a lazy import still points at the module); only the circle check looks
# at module-level imports alone, since those are the ones that run while a module loads.

HTTP_LAYER = ("flask", "werkzeug", "anthias_edge.api", "anthias_edge.auth", "anthias_edge.web",
              "anthias_edge.console")
LEGACY_VERSIONS = ("anthias_edge.api.v1", "anthias_edge.api.v1_1", "anthias_edge.api.v1_2",
                   "anthias_edge.api.v2")
VERSIONS = (*LEGACY_VERSIONS, "anthias_edge.api.v3")
# The sync hub's blueprint: the one Flask module in cloud_sync (STYLE.md), loaded by the cloud
# app only; the hub's services beside it hold to the rule like the rest of cloud_sync.
HUB_BLUEPRINT = "cloud_sync.hub.routes"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in _modules()}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module an ``ImportFrom`` names, with a relative import resolved against ``importer``."""
    if not node.level:
        return node.module or ""
    base = importer if is_package else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{node.module}" if node.module else base


def _imported(nodes: Iterator[ast.AST], importer: str, is_package: bool) -> set[str]:
    """Each imported module; ``from a import b`` yields both ``a`` and ``a.b`` (b may be one)."""
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, is_package)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _every_import(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return _imported(ast.walk(tree), name, path.name == "__init__.py")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _load_time_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Statements that run when the module is imported: not function bodies, not
    ``if TYPE_CHECKING:`` (class bodies, try and other if blocks do run)."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _load_time_nodes(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):
            yield from _load_time_nodes(getattr(node, field, None) or [])
        for handler in getattr(node, "handlers", None) or []:
            yield from _load_time_nodes(handler.body)


def _offences(prefixes: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {name: sorted(i for i in _every_import(name, path) if _within(i, forbidden))
             for name, path in _all_modules().items() if _within(name, prefixes)}
    return {name: imports for name, imports in found.items() if imports}


def test_services_never_import_the_http_layer_or_flask():
    assert len([n for n in _all_modules() if _within(n, ("anthias_edge.services",))]) >= 20
    assert _offences(("anthias_edge.services",), HTTP_LAYER) == {}


def test_authentication_never_imports_the_apis_or_pages_above_it():
    above = ("anthias_edge.api", "anthias_edge.web", "anthias_edge.console")
    assert _offences(("anthias_edge.auth",), above) == {}


def test_the_player_and_cloud_sync_never_import_the_http_layer_or_flask():
    offences = _offences(("player", "cloud_sync"), HTTP_LAYER)
    assert HUB_BLUEPRINT in offences  # the one exception is still the one that imports Flask
    assert {name: imports for name, imports in offences.items() if name != HUB_BLUEPRINT} == {}


def test_the_player_and_cloud_sync_load_without_flask():
    # Transitively: importing every module of both packages, in a fresh interpreter, loads
    # nothing of Flask or the HTTP layer through the anthias_edge modules they use.
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import cloud_sync, player\n"
        "for package in (player, cloud_sync):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        f"        if info.name != {HUB_BLUEPRINT!r}:\n"
        "            importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout)
    assert "player.loop" in loaded and "anthias_edge.settings" in loaded
    assert [name for name in loaded if _within(name, HTTP_LAYER)] == []


@pytest.mark.sqlite_only
def test_a_device_server_that_is_not_linked_loads_no_signing_library(environ):
    # cryptography and PyJWT cost a device's server about 11 MiB of resident memory (issue
    # 11's idle-memory figure). Only linking, signing and v3 sign-in need them, loaded then.
    script = (
        "import json, sys\n"
        "from anthias_edge.app import create_app\n"
        "app = create_app(environ=json.loads(sys.argv[1]))\n"
        "client = app.test_client()\n"
        "client.post('/api/v2/assets', json={'name': 'x', 'uri': 'https://example.org/', "
        "'mimetype': 'webpage', 'is_enabled': 1, 'skip_asset_check': 1})\n"
        "assert client.get('/api/v2/assets').status_code == 200\n"
        "app.extensions['anthias'].close()\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script, json.dumps(environ)],
                                       cwd=ROOT, check=True, capture_output=True,
                                       text=True).stdout)
    assert "cloud_sync.device.outbox" in loaded  # what used to bring them in
    assert [name for name in loaded if name.split(".")[0] in ("cryptography", "jwt")] == []


def test_api_versions_never_import_each_other():
    for version in VERSIONS:
        others = tuple(v for v in VERSIONS if v != version)
        assert _offences((version,), others) == {}, version
    # What legacy versions share (api/legacy/) is theirs alone; what they share with v3 sits
    # directly under api/ (asset_format, asset_extensions, request_body, schema).
    assert _offences(("anthias_edge.api.v3",), ("anthias_edge.api.legacy",)) == {}
    assert _offences(("anthias_edge.api.legacy",), VERSIONS) == {}


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports while loading: ``from a import b`` points at
    ``a.b`` when that is a module, else at ``a``."""
    modules = _all_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in _load_time_nodes(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, name, path.name == "__init__.py")
                targets.update(f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules
                               else module for alias in node.names)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_project_modules():
    graph = _import_graph()
    assert len(graph) > 100 and graph["player.main"]  # the walk saw the packages and their imports
    assert _circles(graph) == []


def test_the_circle_check_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
