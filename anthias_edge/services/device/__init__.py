"""What only a device does: tell about itself, run the host's reboot and shutdown commands,
save its settings, keep its default assets and mirror its Basic login into the local tenant.

``info`` (``/api/v1/info``, ``/api/v2/info``), ``host_commands``, ``settings_save`` (with
``default_assets``) and ``owner``. Rules that hold in the cloud too (assets, reachability,
uploads) stay directly under ``services/``.
"""
