"""`skyssl serve`: one-line errors for a bad index or a taken port, and a real server answering on loopback."""

from __future__ import annotations

import re
import socket
import subprocess
import time

import httpx

from skyssl.app.serving import bind_socket, url_of
from tests.cli.helpers import SKYSSL, error_lines, run_cli


def test_a_missing_index_is_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "serve", "--index", tmp_path / "nope", "--port", "0")
    assert code == 2
    assert error_lines(err) == [f"skyssl: error: {tmp_path / 'nope'}: no such index folder"]


def test_a_folder_that_is_not_an_index_is_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "serve", "--index", tmp_path, "--port", "0")
    assert code == 2 and len(error_lines(err)) == 1 and "manifest" in err


def test_a_taken_port_is_one_line_and_exit_2(capsys, index_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = run_cli(capsys, "serve", "--index", index_dir, "--port", str(taken.getsockname()[1]))
    assert code == 2 and error_lines(err)[0].startswith("skyssl: error: cannot listen on 127.0.0.1:")


def test_bound_socket_is_tcp_so_asyncio_turns_nagle_off():
    """asyncio sets TCP_NODELAY only on sockets whose proto is TCP; without it responses wait 40 ms."""
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url_of(sock))
    finally:
        sock.close()


def test_serve_prints_its_url_and_answers(index_dir, tmp_path):
    server = subprocess.Popen([str(SKYSSL), "serve", "--index", str(index_dir), "--labels",
                               str(tmp_path / "labels.sqlite"), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert match, line + server.stderr.read()
        deadline, health = time.monotonic() + 60, None
        while health is None and time.monotonic() < deadline:
            try:
                health = httpx.get(match.group(1) + "api/health", timeout=10).json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert health["status"] == "ok" and health["n_objects"] == 64
        assert httpx.get(match.group(1) + "openapi.json", timeout=10).json()["info"]["title"] == "skyssl"
    finally:
        server.terminate()
        server.wait(timeout=30)
