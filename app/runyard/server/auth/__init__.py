"""The server's accounts and permissions (``runyard server --auth``): who is asking (Basic,
Bearer, session cookie or a trusted proxy's header), what they may do (a filtering view of the
store), MLflow's auth API, the sign-in page and the admin page. ``install_auth`` wires it in."""
