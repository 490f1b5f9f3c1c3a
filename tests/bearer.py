"""``Authorization: Bearer <API token>`` for plain ``requests`` calls in the container and
e2e suites, the header MLFLOW_TRACKING_TOKEN makes the clients send."""

from __future__ import annotations

import requests


class BearerToken(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request
