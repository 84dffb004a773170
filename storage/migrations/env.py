"""Alembic environment: always driven from ``storage.migrate`` with a live connection."""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `twinbot db upgrade`, which supplies the connection")



# Indexes made by hand in a migration, whose form differs between SQLite and PostgreSQL: not in the models.
HAND_MADE_INDEXES = {"ix_reports_search", "ix_reports_cells", "ix_reports_groups"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # The FTS5 table and its shadow tables are made by hand in 0003, not by the models.
    if type_ == "index" and name in HAND_MADE_INDEXES:
        return False
    return not (type_ == "table" and name and name.startswith("reports_fts"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
