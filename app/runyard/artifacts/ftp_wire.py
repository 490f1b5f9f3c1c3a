"""FTP's wire details that ``FtpArtifactRepo`` builds on: transfers in binary mode, the
lines of a listing, and what a server's reply to a refused upload means.

A session is put in binary mode (TYPE I) once, when it connects, and stays there. ftplib's
retrlines (and so its mlsd) switches to ASCII mode and leaves it there: a server that honours
ASCII mode would then turn LF into CRLF in the session's next download, and some refuse SIZE.
Its storbinary sends TYPE I before every file: a round trip each.
"""

from __future__ import annotations

import ftplib
import ssl

from runyard.artifacts.base import CHUNK_SIZE, CountingReader, not_stored

#: Replies to a STOR that mean the server had no room: vsftpd's "Failure writing to local
#: file" (451) and "insufficient storage" (452).
NO_ROOM_REPLIES = ("451", "452")


def mlsd_kind(facts: dict[str, str]) -> str:
    kind = facts.get("type", "").lower()
    if kind == "dir":
        return "dir"
    return "link" if "slink" in kind or kind == "os.unix=symlink" else "file"


def binary_lines(ftp: ftplib.FTP, command: str) -> list[str]:
    """The lines a listing command sends over the data connection, read in binary mode."""
    with ftp.transfercmd(command) as conn:
        with conn.makefile("rb") as reader:
            raw = reader.read()
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
    ftp.voidresp()
    lines = raw.decode(ftp.encoding).split("\n")
    return [stripped for line in lines if (stripped := line.removesuffix("\r"))]


def send_file(ftp: ftplib.FTP, command: str, reader: CountingReader, rel: str) -> None:
    """``command`` (a STOR) with ``reader``'s bytes on its data connection. A server that
    cannot write them says why, after dropping that connection or, when the socket's buffers
    held the rest, after the last byte: a full disk is ``not_stored``. Its words may name its
    paths: not shown."""
    with ftp.transfercmd(command) as conn:
        while chunk := reader.read(CHUNK_SIZE):
            try:
                conn.sendall(chunk)
            except (ConnectionResetError, BrokenPipeError):
                _raise_if_no_room(_reply_code(ftp), rel)
                raise
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
    try:
        ftp.voidresp()
    except ftplib.error_temp as reply:
        _raise_if_no_room(str(reply)[:3], rel)
        raise


def _raise_if_no_room(code: str | None, rel: str) -> None:
    if code in NO_ROOM_REPLIES:
        raise not_stored(f"The FTP server refused to store {rel!r}") from None


def _reply_code(ftp: ftplib.FTP) -> str | None:
    """The code of the reply the server sends after dropping a transfer, if one comes."""
    try:
        return ftp.getresp()[:3]
    except ftplib.Error as reply:
        return str(reply)[:3]
    except (OSError, EOFError):
        return None


def parse_mlsd_line(line: str) -> tuple[str, dict[str, str]]:
    """One MLSD line, ``type=file;size=5; name``: the name and its facts (keys lowercased)."""
    found, _, name = line.partition(" ")
    facts = {}
    for fact in found.rstrip(";").split(";"):
        key, _, value = fact.partition("=")
        facts[key.lower()] = value
    return name, facts


def parse_list_line(line: str) -> tuple[str, str, int] | None:
    """One ``ls -l`` style line of LIST: ``-rw-r--r-- 1 u g 5 Jan 01 00:00 name``."""
    parts = line.split(None, 8)
    if len(parts) < 9 or parts[8] in (".", ".."):
        return None
    kind = {"d": "dir", "-": "file", "l": "link"}.get(parts[0][:1])
    if kind is None:
        return None
    try:
        size = int(parts[4])
    except ValueError:
        return None
    return parts[8], kind, size
