"""Refresh the screenshots in docs/ui.md from the ones the browser tests take.

    pytest tests/ui            # writes test-output/ui/*.png
    python scripts/ui-screenshots.py

Each is scaled to at most 1000 px wide and stored as a 256-colour PNG, so the set stays small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

SOURCE = Path("test-output/ui")
TARGET = Path("docs/img/ui")
WIDTH = 1000
MAX_HEIGHT = 1400
#: Screenshot names shown in docs/ui.md.
SHOTS = (
    "experiments",
    "runs-nested",
    "runs-columns",
    "run",
    "run-description",
    "run-images",
    "run-sections",
    "compare-images",
    "chart-view",
    "dark-experiment",
    "dark-charts",
)


def shrink(source: Path, target: Path) -> None:
    image = Image.open(source).convert("RGB")
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    image = image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = [name for name in SHOTS if not (SOURCE / f"{name}.png").exists()]
    if missing:
        print(f"missing screenshots (run pytest tests/ui first): {missing}", file=sys.stderr)
        return 1
    for name in SHOTS:
        shrink(SOURCE / f"{name}.png", TARGET / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
