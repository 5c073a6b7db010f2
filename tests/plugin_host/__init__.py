"""Tests of the plugin host (anthias_edge/plugins): hooks, entry points, broken plugins, CLI."""
