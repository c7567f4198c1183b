"""The web server: REST API under /api/v1, the dashboard and the partner portal."""
