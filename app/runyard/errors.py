"""Errors raised by runyard, each carrying an MLflow error code and an HTTP status.

The server renders any ``RunyardError`` as ``{"error_code": ..., "message": ...}`` with its
status; the REST client turns such a body back into the matching subclass, so callers catch the
same exception whichever store they talk to.

Exception tree::

    RunyardError                      INTERNAL_ERROR            500
    ├── InvalidParameterValue         INVALID_PARAMETER_VALUE   400
    │   └── InvalidFilter             INVALID_PARAMETER_VALUE   400  (bad filter / order_by)
    ├── BadRequest                    BAD_REQUEST               400
    ├── ResourceAlreadyExists         RESOURCE_ALREADY_EXISTS   400
    ├── ResourceDoesNotExist          RESOURCE_DOES_NOT_EXIST   404
    ├── Unauthenticated               UNAUTHENTICATED           401  (no or bad credentials)
    ├── PermissionDenied              PERMISSION_DENIED         403
    ├── RequestTooLarge               REQUEST_LIMIT_EXCEEDED    413
    ├── NotImplementedByBackend       NOT_IMPLEMENTED           501
    └── TemporarilyUnavailable        TEMPORARILY_UNAVAILABLE   503  (database or store away)
"""

from __future__ import annotations

from typing import ClassVar

#: MLflow's ``ERROR_CODE_TO_HTTP_STATUS``; any other code maps to 500.
ERROR_CODE_TO_HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

#: The code for a bare HTTP status (a proxy's HTML page, Werkzeug's own 405 or 413): the one
#: reverse table, used by the client and by the server's error handler alike.
HTTP_STATUS_TO_ERROR_CODE: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "BAD_REQUEST",
    408: "DEADLINE_EXCEEDED",
    409: "RESOURCE_CONFLICT",
    411: "BAD_REQUEST",
    413: "REQUEST_LIMIT_EXCEEDED",
    415: "BAD_REQUEST",
    429: "REQUEST_LIMIT_EXCEEDED",
    431: "REQUEST_LIMIT_EXCEEDED",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_code_for_status(status: int) -> str:
    """MLflow's error code for an HTTP status that came without one."""
    return HTTP_STATUS_TO_ERROR_CODE.get(
        status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"
    )


class RunyardError(Exception):
    """Base of every error runyard raises on purpose."""

    error_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code  # type: ignore[misc]

    @property
    def http_status(self) -> int:
        return ERROR_CODE_TO_HTTP_STATUS.get(self.error_code, 500)

    @classmethod
    def from_code(cls, error_code: str, message: str) -> RunyardError:
        """The subclass for ``error_code`` (as a server sent it), keeping the code verbatim."""
        subclass = _BY_CODE.get(error_code, RunyardError)
        return subclass(message, error_code=error_code)

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"

    def get_http_status_code(self) -> int:
        """MLflow's name for ``http_status``."""
        return self.http_status


#: MLflow's name for the base error, so ``except mlflow.MlflowException`` keeps working when
#: the import says runyard.
MlflowException = RunyardError


class InvalidParameterValue(RunyardError):
    error_code = "INVALID_PARAMETER_VALUE"


class InvalidFilter(InvalidParameterValue):
    """A filter string or ``order_by`` clause that does not parse; the message says where."""


class BadRequest(RunyardError):
    error_code = "BAD_REQUEST"


class ResourceAlreadyExists(RunyardError):
    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceDoesNotExist(RunyardError):
    error_code = "RESOURCE_DOES_NOT_EXIST"


class Unauthenticated(RunyardError):
    error_code = "UNAUTHENTICATED"


class PermissionDenied(RunyardError):
    error_code = "PERMISSION_DENIED"


class RequestTooLarge(RunyardError):
    error_code = "REQUEST_LIMIT_EXCEEDED"

    @property
    def http_status(self) -> int:
        return 413


class InsufficientStorage(RunyardError):
    """The artifact store's disk is full: nothing was stored, and the same request succeeds
    once space is freed."""

    error_code = "RESOURCE_EXHAUSTED"

    @property
    def http_status(self) -> int:
        return 507


class NameTooLong(InvalidParameterValue):
    """A file or directory name longer than the file system allows."""


class SchemaTooNew(RunyardError):
    """The database was migrated by a newer runyard; this one must not touch it."""

    error_code = "INVALID_STATE"


class NotImplementedByBackend(RunyardError):
    error_code = "NOT_IMPLEMENTED"


class TemporarilyUnavailable(RunyardError):
    error_code = "TEMPORARILY_UNAVAILABLE"


_BY_CODE: dict[str, type[RunyardError]] = {
    "INVALID_PARAMETER_VALUE": InvalidParameterValue,
    "BAD_REQUEST": BadRequest,
    "RESOURCE_ALREADY_EXISTS": ResourceAlreadyExists,
    "RESOURCE_DOES_NOT_EXIST": ResourceDoesNotExist,
    "NOT_FOUND": ResourceDoesNotExist,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "REQUEST_LIMIT_EXCEEDED": RequestTooLarge,
    "NOT_IMPLEMENTED": NotImplementedByBackend,
    "TEMPORARILY_UNAVAILABLE": TemporarilyUnavailable,
}
