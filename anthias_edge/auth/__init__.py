"""Authentication: who may call the web UI and the API.

Only pure checks live here (no Flask); the app wires them into requests.
"""
