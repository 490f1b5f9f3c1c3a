"""The REST replies that skip Flask's JSON provider must carry what ``jsonify`` would."""

from __future__ import annotations

import json
import math

from flask import Flask, jsonify
from runyard.server.api.common import large_reply, reply


def test_replies_match_jsonify() -> None:
    app = Flask(__name__)
    body = {"runs": [{"b": 1, "a": "é", "v": "NaN"}], "next_page_token": "x", "z": math.pi}
    with app.app_context():
        expected = jsonify(body)
        fast = large_reply(body)
        empty = reply()
        assert fast.mimetype == expected.mimetype == "application/json"
        assert json.loads(fast.get_data()) == json.loads(expected.get_data())
        assert fast.get_data().endswith(b"\n")
        assert json.loads(fast.get_data().decode("utf-8"))["runs"][0]["a"] == "é"
        assert empty.get_data() == jsonify({}).get_data()
        assert empty.mimetype == "application/json"
        assert reply({"a": 1}).get_json() == {"a": 1}
