"""wsms database room: SQLModel tables, engine setup, migrations and bulk helpers.

Imports SQLModel/SQLAlchemy only; never Textual, never the domain services.
"""
