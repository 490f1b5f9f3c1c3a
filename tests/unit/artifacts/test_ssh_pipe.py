"""``ChunkPipe`` against paramiko's own ``BufferedPipe``: the same bytes out for the same feeds
and reads, the same blocking, timeout, close and event behaviour."""

from __future__ import annotations

import random
import threading
import time

import pytest

paramiko = pytest.importorskip("paramiko")

from paramiko.buffered_pipe import BufferedPipe, PipeTimeout  # noqa: E402
from runyard.artifacts.ssh_pipe import ChunkPipe  # noqa: E402


@pytest.mark.parametrize("seed", range(20))
def test_reads_return_what_paramikos_pipe_returns(seed: int) -> None:
    rng = random.Random(seed)
    theirs, ours = BufferedPipe(), ChunkPipe()
    for _ in range(400):
        if rng.random() < 0.5:
            data = rng.randbytes(rng.choice([0, 1, 4, 13, 300]))
            theirs.feed(data)
            ours.feed(data)
        elif len(theirs):
            size = rng.choice([1, 4, 9, 64, 1000])
            assert ours.read(size, 0.1) == theirs.read(size, 0.1)
        assert len(ours) == len(theirs)
        assert ours.read_ready() == theirs.read_ready()
    assert ours.empty() == theirs.empty()
    assert len(ours) == 0


def test_a_read_waits_for_a_feed_from_another_thread() -> None:
    pipe = ChunkPipe()
    threading.Timer(0.05, pipe.feed, args=(b"late",)).start()
    assert pipe.read(10, timeout=5) == b"late"


def test_a_read_times_out_when_nothing_arrives() -> None:
    pipe = ChunkPipe()
    started = time.monotonic()
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.1)
    assert time.monotonic() - started >= 0.1
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.0)


def test_a_closed_pipe_hands_out_the_rest_and_then_nothing() -> None:
    pipe = ChunkPipe()
    pipe.feed(b"tail")
    pipe.close()
    assert pipe.read(2) == b"ta"
    assert pipe.read(10) == b"il"
    assert pipe.read(10) == b""
    waiting = ChunkPipe()
    threading.Timer(0.05, waiting.close).start()
    assert waiting.read(10, timeout=5) == b""


def test_the_event_is_set_while_bytes_wait() -> None:
    pipe = ChunkPipe()
    event = threading.Event()
    pipe.set_event(event)
    assert not event.is_set()
    pipe.feed(b"ab")
    assert event.is_set()
    pipe.read(1)
    assert event.is_set()
    pipe.read(1)
    assert not event.is_set()
    pipe.close()
    assert event.is_set()
