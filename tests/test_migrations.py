"""The Alembic migrations and the SQLModel tables describe the same schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storelink.models  # noqa: F401


async def test_models_and_migrations_agree(app):
    # given: the test database, built by running every migration (conftest)
    def diff(sync_conn):
        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, SQLModel.metadata)

    # when: autogenerate compares it with the models
    async with app.state.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    # then
    assert changes == []


async def test_no_postgres_extension_is_needed(app):
    # given
    from sqlalchemy import text

    # when
    async with app.state.engine.connect() as conn:
        extensions = (await conn.execute(text("SELECT extname FROM pg_extension"))).scalars().all()
    # then
    assert extensions == ["plpgsql"]
