"""The layering of the package, checked from pytest as well as from ``make test``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    """import-linter's contracts in pyproject.toml: the layers, no sibling cycles, no Qt below ``_qt``."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is part of the test extra"
    done = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout, done.stdout[-3000:]


def test_every_library_package_is_in_the_layers_contract():
    """A new package must be placed in the layers, or nothing stops it importing upwards."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    listed = {name for layer in layers for name in layer.split("|")}
    src = REPO / "src" / "annotator"
    found = {f"annotator.{p.name}" for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {f"annotator.{p.stem}" for p in src.glob("*.py") if not p.stem.startswith("_")}
    found -= {"annotator.__main__"}
    assert found <= {n.strip() for n in listed}, sorted(found - listed)
