"""Web UI figures in the system Chromium against the production server on loopback.

Prints, for one run:

- time to first render of the assets page with 100 assets: navigation start to first
  contentful paint (Performance API), cold cache (a fresh browser context per run);
- bytes transferred for that page before images (document, CSS, JS, the asset list);
- upload throughput of a 50 MB file through the page's chunked upload (5,000,000-byte chunks
  to ``/api/v2/file_asset`` with Content-Range and X-Upload-Id), timed inside the page.

Targets: first render ≤ 300 ms, page weight ≤ 150 kB, upload ≥ 50 MB/s.
Usage: ``.venv/bin/python benchmarks/web_ui.py [--runs 5] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _browser import chromium
from _server import start_server

ASSETS = 100
UPLOAD_BYTES = 50_000_000
TARGETS = {"first_render_ms": 300, "page_kB": 150, "upload_MBps": 50}

MEASURE_PAGE = """() => {
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource")
    .filter((r) => r.initiatorType !== "img");
  return {
    fcp_ms: fcp ? fcp.startTime : null,
    document_bytes: nav.transferSize,
    resource_bytes: resources.reduce((sum, r) => sum + r.transferSize, 0),
    resources: resources.map((r) => [r.name.replace(location.origin, ""), r.transferSize]),
  };
}"""

UPLOAD_IN_PAGE = """async (size) => {
  const { uploadFile } = await import("/static/js/uploads.js");
  const file = new File([new Uint8Array(size).fill(7)], "bench.png", { type: "image/png" });
  const started = performance.now();
  const result = await uploadFile(file).done;
  return { ms: performance.now() - started, ok: result.ok, message: result.message || "" };
}"""


def first_render(browser: Any, url: str, runs: int) -> dict[str, Any]:
    """Median first contentful paint and bytes over ``runs`` cold-cache loads."""
    samples = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url + "/", wait_until="networkidle")
        page.wait_for_function("document.querySelectorAll('#active-list li').length > 0")
        samples.append(page.evaluate(MEASURE_PAGE))
        context.close()
    fcps = [s["fcp_ms"] for s in samples]
    weights = [s["document_bytes"] + s["resource_bytes"] for s in samples]
    return {"fcp_ms_median": statistics.median(fcps), "fcp_ms_runs": [round(f, 1) for f in fcps],
            "page_bytes": max(weights), "resources": samples[-1]["resources"],
            "document_bytes": samples[-1]["document_bytes"]}


def upload(browser: Any, url: str, runs: int) -> dict[str, Any]:
    """Median MB/s of the in-page chunked upload of a 50 MB file."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/", wait_until="networkidle")
    rates = []
    for _ in range(runs):
        result = page.evaluate(UPLOAD_IN_PAGE, UPLOAD_BYTES)
        if not result["ok"]:
            raise RuntimeError(f"upload failed: {result['message']}")
        rates.append(UPLOAD_BYTES / 1e6 / (result["ms"] / 1000))
    context.close()
    return {"upload_MBps_median": statistics.median(rates),
            "upload_MBps_runs": [round(r, 1) for r in rates]}


def machine() -> str:
    """One line about where this ran."""
    load = os.getloadavg()
    return (f"{platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()},"
            f" kernel {platform.release()}, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")


def main() -> None:
    """Start the server, seed 100 assets, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with start_server() as server:
        server.seed_assets(ASSETS)
        with chromium() as browser:
            page = first_render(browser, server.base_url, args.runs)
            uploaded = upload(browser, server.base_url, max(1, args.runs // 2 + 1))
    figures = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "machine": machine(), "assets": ASSETS, **page, **uploaded}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    kb = figures["page_bytes"] / 1000
    print(f"{figures['date']} — {figures['machine']}")
    print(f"first render, assets page, {ASSETS} assets, cold cache: "
          f"{figures['fcp_ms_median']:.0f} ms median {figures['fcp_ms_runs']} "
          f"(target ≤ {TARGETS['first_render_ms']} ms)")
    print(f"page weight before images: {kb:.1f} kB (target ≤ {TARGETS['page_kB']} kB)")
    for name, size in figures["resources"]:
        print(f"  {size:>8} B  {name}")
    print(f"  {figures['document_bytes']:>8} B  / (document)")
    print(f"upload of {UPLOAD_BYTES / 1e6:.0f} MB in 5 MB chunks: "
          f"{figures['upload_MBps_median']:.1f} MB/s median {figures['upload_MBps_runs']} "
          f"(target ≥ {TARGETS['upload_MBps']} MB/s)")


if __name__ == "__main__":
    main()
