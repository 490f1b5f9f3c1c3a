"""The web UI: pages, their JSON endpoints, templates and static files."""
