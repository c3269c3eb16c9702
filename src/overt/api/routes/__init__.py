"""REST routes, one module per resource. Every route declares its roles with ``allow``."""
