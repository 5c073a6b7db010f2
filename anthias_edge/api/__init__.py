"""HTTP API: one blueprint package per version, plus the legacy (v1-v2) support package."""
