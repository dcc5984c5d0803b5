"""The store: SQLAlchemy Core over aiosqlite or asyncpg, one repository module per aggregate."""
