"""The images the container tests run, built offline once per machine and then reused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.cluster import settings

ROOT = Path(__file__).resolve().parents[2]
RUNYARD_IMAGE = settings()["RUNYARD_IMAGE"]  # deploy/kind/settings.env, or the environment
POSTGRES_IMAGE = "runyard-standin-postgres:15"
S3_IMAGE = "runyard-standin-s3:moto"
BUILD_TIMEOUT = 1800


def build_images() -> None:
    """Build (or refresh) the server image and the stand-ins with the offline build script.

    The script reuses the base image, the wheelhouse and the stand-ins when their inputs are
    unchanged, and Docker's layer cache makes an unchanged server image a quick no-op, so every
    test session checks the image that the current source tree produces.
    """
    if os.environ.get("RUNYARD_SKIP_IMAGE_BUILD") == "1":
        return
    done = subprocess.run(
        [
            str(ROOT / "scripts" / "build-image.sh"),
            "--offline",
            "--standins",
            "--tag",
            RUNYARD_IMAGE,
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"image build failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
