"""Rebuild plots.html, the page template `dvc plots show/diff` use (.dvc/config: plots.html_template).

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so offline it
is blank. This template carries the three libraries inline, the builds of the
versions DVC's page names, taken verbatim from their npm packages (all
BSD-3-Clause; their LICENSE files are copied beside it). Run from anywhere:
``python vendor/vega/build.py`` (needs npm and the npm registry).
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The versions dvc_render's VegaRenderer.SCRIPTS loads (dvc-render 1.0.2), each with its build file.
PACKAGES = {"vega": ("5.20.2", "build/vega.min.js"), "vega-lite": ("5.2.0", "build/vega-lite.min.js"),
            "vega-embed": ("6.18.2", "build/vega-embed.min.js")}
PAGE = """<!DOCTYPE html>
<html>
<head>
    {{refresh_tag}}
    <title>DVC Plot</title>
    <!-- Built by vendor/vega/build.py: {versions} inline (BSD-3-Clause, vendor/vega/LICENSE-*), so the page
         renders with no network. No CDN scripts placeholder: DVC adds its CDN links only where there is one. -->
{scripts}
    <style>
        table {{
            border-spacing: 15px;
        }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def build(folder: Path) -> None:
    """Fetch the pinned packages with npm and write plots.html and LICENSE-<package> into ``folder``."""
    scripts, versions = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, build_file) in PACKAGES.items():
            tarball = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp, check=True,
                                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
            with tarfile.open(Path(tmp) / tarball) as archive:
                code = archive.extractfile(f"package/{build_file}").read().decode("utf-8")
                (folder / f"LICENSE-{name}").write_bytes(archive.extractfile("package/LICENSE").read())
            if "</script" in code.lower():
                raise SystemExit(f"{name}: its build contains '</script', which cannot be inlined")
            scripts.append(f"    <script>/* {name}@{version} */\n{code}\n    </script>")
            versions.append(f"{name}@{version}")
    (folder / "plots.html").write_text(PAGE.format(versions=", ".join(versions), scripts="\n".join(scripts)))


if __name__ == "__main__":
    build(HERE)
