"""Alembic migrations, shipped inside the package so they run from an installed wheel."""
