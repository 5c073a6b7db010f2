"""What every legacy version (v1, v1.1, v1.2, v2) shares: fields, parsing, rendering.

Versions import from here, never from each other. The asset formats (`api/asset_format.py`)
and the extension fields (`api/asset_extensions.py`) are shared with v3, so they live outside.
"""
