"""Both ends of the device-cloud sync wire; empty until the sync is written.

The device side (agent) runs as its own process and never imports Flask; only the cloud side
(hub) is a Flask blueprint, mounted in the cloud app.
"""
