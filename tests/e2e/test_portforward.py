"""The port-forward helper without a cluster: kubectl's output parsed, death noticed, healed."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.portforward import (
    ForwardedClient,
    PortForward,
    PortForwardError,
    is_broken_line,
    parse_forwarded_port,
)

FAKE = Path(__file__).with_name("fake_kubectl.py")


@pytest.mark.parametrize(
    ("line", "port"),
    [
        ("Forwarding from 127.0.0.1:38147 -> 5000", 38147),
        ("Forwarding from [::1]:38147 -> 5000", 38147),
        ("Forwarding from 127.0.0.1:38147 -> 5000\n", 38147),
        ("Handling connection for 38147", None),
        ("Forwarding from 127.0.0.1:38147 -> 9000", None),
        ("error: unable to forward port because pod is not running", None),
        ("", None),
    ],
)
def test_parse_forwarded_port(line: str, port: int | None) -> None:
    assert parse_forwarded_port(line, remote_port=5000) == port


def test_broken_tunnel_lines() -> None:
    assert is_broken_line(
        'E0527 portforward.go:413] "Unhandled Error" err="lost connection to pod"'
    )
    assert is_broken_line("E0527 an error occurred forwarding 38147 -> 5000: error forwarding port")
    assert not is_broken_line("Handling connection for 38147")
    assert not is_broken_line("Forwarding from 127.0.0.1:38147 -> 5000")


def _forward(tmp_path: Path, timeout: float = 10) -> tuple[PortForward, Path]:
    die = tmp_path / "die"
    env = {**os.environ, "FAKE_KUBECTL_DIE": str(die)}
    return PortForward([sys.executable, str(FAKE)], env=env, start_timeout=timeout), die


def test_start_reads_the_port_kubectl_chose(tmp_path: Path) -> None:
    forward, _ = _forward(tmp_path)
    with forward:
        assert forward.alive
        assert forward.argv[-5:] == [":5000", "-n", "runyard", "--address", "127.0.0.1"]
        assert requests.get(forward.url + "/health", timeout=5).text == "ok"
    assert not forward.alive


def test_death_is_noticed_and_reconnect_gives_a_new_tunnel(tmp_path: Path) -> None:
    forward, die = _forward(tmp_path)
    with forward:
        first = forward.port
        die.touch()
        deadline = time.monotonic() + 10
        while forward.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not forward.alive
        assert "lost connection to pod" in forward.recent_output()
        die.unlink()
        url = forward.ensure()
        assert forward.reconnects == 1
        assert forward.port != first or url == f"http://127.0.0.1:{first}"
        assert requests.get(url, timeout=5).status_code == 200


def test_client_reconnects_after_the_tunnel_dies(tmp_path: Path) -> None:
    forward, die = _forward(tmp_path)
    with forward:
        client = ForwardedClient(forward, retry_for=20)
        assert client.get("/").status_code == 200
        die.touch()
        time.sleep(0.5)
        die.unlink()
        assert client.get("/").status_code == 200
        assert forward.reconnects >= 1


def test_client_reconnects_when_a_half_dead_tunnel_never_answers(tmp_path: Path) -> None:
    hang = tmp_path / "hang"
    env = {**os.environ, "FAKE_KUBECTL_DIE": str(tmp_path / "die"), "FAKE_KUBECTL_HANG": str(hang)}
    with PortForward([sys.executable, str(FAKE)], env=env) as forward:
        client = ForwardedClient(forward, timeout=0.5, retry_for=20)
        hang.touch()
        healer = threading.Timer(1.5, hang.unlink)
        healer.start()
        try:
            assert client.get("/").status_code == 200
        finally:
            healer.join()
        assert forward.reconnects >= 1


def test_start_fails_clearly_when_kubectl_exits(tmp_path: Path) -> None:
    forward = PortForward([sys.executable, "-c", "print('error: no such service'); exit(1)"])
    with pytest.raises(PortForwardError, match="no such service"):
        forward.start()
