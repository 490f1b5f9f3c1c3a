"""How locations of the file-server and bucket schemes look, taught to ``runyard.locations``.

Imported with ``runyard.artifacts`` (which every part of runyard loads), so stores, the server's
checks and the repositories all accept the same ``sftp://``, ``ftp://``, ``ftps://`` and
``gs://`` locations, before any optional package is imported.
"""

from __future__ import annotations

from runyard.locations import SchemeRules, register_scheme

#: ``user@host[:port]/path``: a login on a file server; a password is never stored.
FILE_SERVER = SchemeRules(authority="required", userinfo=True)
#: ``bucket/prefix``: no login in the location; credentials come the provider's way.
BUCKET = SchemeRules(authority="required")

for _scheme, _rules in {
    "sftp": FILE_SERVER,
    "ftp": FILE_SERVER,
    "ftps": FILE_SERVER,
    "gs": BUCKET,
}.items():
    register_scheme(_scheme, _rules)
