"""Run the vendored axe-core in a Playwright page and fail on serious or critical violations.

axe is evaluated through the DevTools protocol rather than added as a script tag: the
console's Content-Security-Policy refuses inline scripts, and a test must not loosen it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
BLOCKING = ("serious", "critical")

_RUN = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now: id, impact, help and up to 5 targets."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(_RUN)


def assert_accessible(page: Any, where: str) -> None:
    """Fail with a readable list when axe finds a serious or critical violation."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"{where}: accessibility violations\n" + "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in blocking)
