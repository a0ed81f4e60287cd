"""The neutral core: types, ports, the command registry and pure handlers.

Nothing here imports a chat platform or a database driver; adapters translate at the edges.
"""
