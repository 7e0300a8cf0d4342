"""Built-in adapters to outside systems, installed as ``hotel_community.plugins``.

Each is registered through the ``hotel_community.plugins`` entry point group
(see setup.cfg), the same way a hotel's own package registers its adapters.
"""
