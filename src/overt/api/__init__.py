"""The REST API and the alert WebSocket (FastAPI): a thin adapter over the services."""
