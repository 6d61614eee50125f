"""The database: SQLAlchemy models, Alembic migrations, the engine, prepared statements and group commit."""
