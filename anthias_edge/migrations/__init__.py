"""Numbered migration scripts (``NNNN_description.py`` with ``up(migrator, db)``).

Run by ``anthias_edge.db.run_migrations``; they never import the application's models.
"""
