"""The one exception the server raises for expected refusals: status, errno, details."""

from __future__ import annotations

from typing import Any

from sync.protocol import Errno, ErrorBody


class ApiError(Exception):
    """A refusal the client can act on; rendered as :class:`sync.protocol.ErrorBody`."""

    def __init__(self, status: int, errno: Errno, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.errno = errno
        self.message = message
        self.details = details

    def body(self) -> ErrorBody:
        return ErrorBody(
            status=self.status,
            errno=int(self.errno),
            error=self.errno.name.lower(),
            message=self.message,
            details=self.details,
        )
