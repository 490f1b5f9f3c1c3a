"""Copying a directory's files a few at a time instead of one after another.

A small file costs round trips, not bandwidth: a request through the server's proxy, or an
SFTP open, write, close and rename, or an FTP STOR on a new data connection. With one file in
flight the link idles through each of them, and on a real network (milliseconds per round trip)
a directory of thousands of files takes minutes. ``artifact_transfer_threads`` files move at
once, each over its own connection from the repository's pool (SFTP and FTP keep four idle per
server, requests' pool keeps ten). MLflow's client downloads a directory with a thread pool too.

Every file is still written whole or not at all (each repository uploads to a temporary name and
renames; downloads do the same locally), so a failure leaves no partial file, whichever thread
it hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from runyard import config


def transfer_threads() -> int:
    """Files in flight at once for a directory upload or download (at least one)."""
    return max(1, config.get_int("artifact_transfer_threads"))


def run_transfers(jobs: Sequence[Callable[[], object]], threads: int | None = None) -> None:
    """Run every job, ``threads`` at a time (default: the setting). On a failure, jobs not yet
    started are dropped, the running ones finish, and the failure of the earliest failing job
    (in the order given) is raised."""
    threads = transfer_threads() if threads is None else max(1, threads)
    if threads == 1 or len(jobs) <= 1:
        for job in jobs:
            job()
        return
    pool = ThreadPoolExecutor(min(threads, len(jobs)), thread_name_prefix="artifacts")
    try:
        futures = [pool.submit(job) for job in jobs]
        wait(futures, return_when=FIRST_EXCEPTION)
    finally:  # a failure or Ctrl-C: the files not yet started are dropped, not waited for
        pool.shutdown(wait=True, cancel_futures=True)
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()  # type: ignore[misc]
