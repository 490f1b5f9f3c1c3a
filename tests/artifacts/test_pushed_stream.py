"""``pushed_chunks``: a writer's bytes as chunks, bounded, failing and stopping cleanly."""

from __future__ import annotations

import threading
import time
from typing import IO

import pytest
from runyard.artifacts.base import CHUNK_SIZE
from runyard.artifacts.pushed_stream import QUEUED_CHUNKS, pushed_chunks


def test_the_bytes_written_come_out_whole_in_bounded_chunks() -> None:
    pieces = [bytes([i % 251]) * size for i, size in enumerate([1, 8192, CHUNK_SIZE + 3, 7] * 5)]

    def writer(into: IO[bytes]) -> None:
        for piece in pieces:
            into.write(piece)

    chunks = list(pushed_chunks(writer))
    assert b"".join(chunks) == b"".join(pieces)
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)


def test_nothing_written_is_no_chunk() -> None:
    assert list(pushed_chunks(lambda into: None)) == []


def test_the_writers_error_comes_after_what_it_wrote() -> None:
    def writer(into: IO[bytes]) -> None:
        into.write(b"x" * (CHUNK_SIZE + 1))
        raise ConnectionError("the server went away")

    chunks = pushed_chunks(writer)
    assert next(chunks) == b"x" * CHUNK_SIZE
    assert next(chunks) == b"x"
    with pytest.raises(ConnectionError, match="went away"):
        next(chunks)


def test_a_slow_reader_holds_the_writer_back() -> None:
    """Memory stays bounded: the writer is never more than the queue ahead of the reader."""
    written = 0

    def writer(into: IO[bytes]) -> None:
        nonlocal written
        for _ in range(40):
            into.write(b"y" * CHUNK_SIZE)
            written += 1

    taken = 0
    for _chunk in pushed_chunks(writer):
        taken += 1
        time.sleep(0.005)
        assert written - taken <= QUEUED_CHUNKS + 1
    assert taken == written == 40


def test_a_reader_that_stops_stops_the_writer() -> None:
    ended = threading.Event()
    written = 0

    def writer(into: IO[bytes]) -> None:
        nonlocal written
        try:
            for _ in range(1000):
                into.write(b"z" * CHUNK_SIZE)
                written += 1
        finally:
            ended.set()

    chunks = pushed_chunks(writer)
    next(chunks)
    chunks.close()  # type: ignore[attr-defined]
    assert ended.wait(5), "the writer kept running after the reader left"
    assert written <= QUEUED_CHUNKS + 2
