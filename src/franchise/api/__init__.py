"""HTTP plumbing every domain's ``api.py`` shares (unit of work, signed-in staff, roles),
plus the routes that belong to no domain (health, the API reference)."""
