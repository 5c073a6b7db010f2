"""The web UI: templates and static files served by the Anthias Edge server."""
