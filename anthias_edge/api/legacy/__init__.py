"""What every legacy version (v1, v1.1, v1.2, v2) shares: fields, parsing, rendering, formats.

Versions import from here, never from each other.
"""
