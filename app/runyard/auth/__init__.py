"""Accounts and permissions: users, API tokens, roles and per-resource grants.

``runyard.auth.store.AuthStore`` keeps them (SQLite or Postgres, own migration chain);
``runyard.auth.access.Access`` answers what one user may do; the server wires them in
``runyard.server.auth``.
"""
