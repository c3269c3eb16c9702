"""The operator console: Jinja2 templates and static JS/CSS served by the API app (no CDN)."""
