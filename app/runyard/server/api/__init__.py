"""The REST API: MLflow's tracking, registry and artifact routes, and runyard's own."""
