"""The handle services work through: an engine plus read/write transaction helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlmodel import Session

from wsms_tui.db.engine import check_connection, make_engine, run_in_transaction, safe_url
from wsms_tui.db.migrate import check_schema
from wsms_tui.db.models import Role, User
from wsms_tui.security import Actor

T = TypeVar("T")


@dataclass
class Database:
    engine: Engine

    @classmethod
    def open(cls, url: str, *, check: bool = True) -> Database:
        """Connect (one clear error if it does not answer) and check the schema version."""
        db = cls(make_engine(url))
        check_connection(db.engine)
        if check:
            check_schema(db.engine)
        return db

    @property
    def url(self) -> str:
        return safe_url(str(self.engine.url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def write(self, fn: Callable[[Session], T]) -> T:
        return run_in_transaction(self.engine, fn)

    def read(self, fn: Callable[[Session], T]) -> T:
        return run_in_transaction(self.engine, fn, readonly=True)

    def system_actor(self, terminal: str = "cli") -> Actor:
        """The built-in admin actor used by the CLI and maintenance jobs."""

        def load(s: Session) -> Actor:
            user = s.exec(select(User).where(User.is_system == True)).scalars().first()  # type: ignore[call-overload]  # noqa: E712
            assert user is not None and user.id is not None, "schema without the system user"
            return Actor(user.id, user.name, Role(user.role), terminal)

        return self.read(load)

    def dispose(self) -> None:
        self.engine.dispose()
