"""Errors the services raise for a person to read: each message says what is wrong and what to do."""

from __future__ import annotations


class WsmsError(Exception):
    """Base of every user-facing error; ``str(err)`` is the message to show."""


class NotFound(WsmsError):
    pass


class BadInput(WsmsError):
    pass


class PermissionDenied(WsmsError):
    pass


class LoginFailed(WsmsError):
    pass


class InsufficientStock(WsmsError):
    pass


class InvariantViolation(WsmsError):
    pass


class OpIdConflict(WsmsError):
    """An operation id was reused for a different operation."""
