"""The player process: schedule, play loop and renderers (built in its own issue)."""
