"""A real, small file system that fills up, for the tests of full disks."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.requirements import require


@contextlib.contextmanager
def tiny_disk(mountpoint: Path, size: str = "1m") -> Iterator[Path]:
    """A real, small file system (tmpfs) that fills up; skipped where mounting is impossible."""
    mountpoint.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        require("mount", f"cannot mount a tmpfs: {result.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
