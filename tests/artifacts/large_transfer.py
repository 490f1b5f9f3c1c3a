"""One large file up and down through a repository, run as a process of its own.

Run as ``python -m tests.artifacts.large_transfer <artifact-uri> <bytes>``; prints one JSON line
with the peak RSS growth of the upload and of the download and whether the bytes came back
unchanged. A process of its own measures what the repository costs and nothing else: inside a
test worker, threads and heaps left by earlier tests count towards the same RSS.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys

from runyard.artifacts import repo_for_uri
from runyard.entities import FileInfo

from tests.streams import GeneratedStream, PeakRss


def transfer(uri: str, size: int) -> dict[str, object]:
    repo = repo_for_uri(uri)
    source = GeneratedStream(size)
    with PeakRss() as upload:
        written = repo.write_stream("big.bin", io.BufferedReader(source))
    listed = repo.file_info("big.bin") == FileInfo("big.bin", False, size)
    sha = hashlib.sha256()
    with PeakRss() as download:
        for chunk in repo.open_stream("big.bin"):
            sha.update(chunk)
    repo.delete_artifacts()
    return {
        "written": written,
        "listed": listed,
        "same_bytes": sha.digest() == source.sha.digest(),
        "upload_growth": upload.growth,
        "download_growth": download.growth,
    }


if __name__ == "__main__":
    print(json.dumps(transfer(sys.argv[1], int(sys.argv[2]))))
