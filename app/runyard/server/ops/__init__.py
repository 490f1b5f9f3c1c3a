"""Operating the server: health, readiness, metrics, version, logging and startup."""
