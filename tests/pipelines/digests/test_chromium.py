"""The HTML digest in real headless Chromium: a screenshot that is not blank, and every
chart image decoded by the browser.

Debian's ``chromium`` is installed by the test when missing (``apt-get install -y
chromium``; the tests run as root). If that fails the test fails with the reason: a
skipped render test would hide a digest nobody can read.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.pipelines.digests.samples import full_content
from voc.pipelines.digests.charts import charts_of
from voc.pipelines.digests.render_html import CSP, render_html

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Appended to a copy of the digest only: reports each image's decoded size into the DOM.
PROBE = """<script>
window.addEventListener('load', () => {
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = [...document.images]
    .map(i => `${i.id}=${i.complete ? i.naturalWidth + 'x' + i.naturalHeight : 'pending'}`)
    .join(' ');
  document.body.appendChild(pre);
});
</script>"""


def chromium() -> str:
    """Debian's chromium, installed when missing; the package lists of a fresh machine
    may be stale or empty, so a failed install is retried after ``apt-get update``."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.fail("chromium is missing and there is no apt-get to install it with")
    install = _apt("install", "-y", "--no-install-recommends", "chromium")
    if install.returncode != 0:
        _apt("update")
        install = _apt("install", "-y", "--no-install-recommends", "chromium")
    found = shutil.which("chromium")
    if install.returncode != 0 or not found:
        tail = (install.stderr or install.stdout).strip().splitlines()[-3:]
        pytest.fail(f"chromium is missing and 'apt-get install -y chromium' failed: {tail}")
    return found


def _apt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["apt-get", *args],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )  # fmt: skip


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_the_html_digest_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    content = full_content()
    charts = charts_of(content)
    page = tmp_path / "billing.html"
    page.write_text(render_html(content, charts), encoding="utf-8")

    shot = tmp_path / "billing.png"
    _run(browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000",
         page.as_uri())  # fmt: skip
    with Image.open(shot) as image:
        assert image.size == (1200, 2000)
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, "a (nearly) blank screenshot"
        white = sum(n for n, rgb in colours if rgb == (255, 255, 255))
        assert white < 0.9 * 1200 * 2000, "a white screenshot"

    probed = tmp_path / "probed.html"
    html = page.read_text(encoding="utf-8").replace(CSP, CSP + "; script-src 'unsafe-inline'")
    probed.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _run(browser, tmp_path / "profile", "--dump-dom", "--virtual-time-budget=5000",
               probed.as_uri()).stdout  # fmt: skip
    report = re.search(r'<pre id="probe">([^<]*)</pre>', dom)
    assert report, f"the probe did not run: {dom[-500:]}"
    sizes = dict(item.split("=") for item in report.group(1).split())
    assert set(sizes) == {f"chart-{name}" for name in charts}
    for name, png in charts.items():
        with Image.open(io.BytesIO(png)) as image:
            drawn = f"{image.width}x{image.height}"
        assert sizes[f"chart-{name}"] == drawn, f"{name} did not load: {sizes[f'chart-{name}']}"
