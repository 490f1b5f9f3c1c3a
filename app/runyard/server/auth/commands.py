"""``runyard users`` and ``runyard tokens``: manage accounts in the auth database directly.

They open the same database the server would (``--auth-database-uri``, else derived from
``--backend-store-uri``, as ``runyard server --auth`` does), so an operator can create the first
accounts before the server runs. Passwords are prompted for, never taken from the command line;
a token is printed once and only its hash is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from runyard.auth.credentials import parse_duration
from runyard.auth.permissions import EXPERIMENT, REGISTERED_MODEL, WILDCARD
from runyard.auth.store import AuthStore
from runyard.errors import RunyardError
from runyard.server.auth.database import auth_database_uri
from runyard.server.settings import ServerConfig


def _database_options(function: Callable[..., Any]) -> Callable[..., Any]:
    @click.option(
        "--backend-store-uri",
        default=None,
        help="The server's tracking store (default: setting backend_store_uri).",
    )
    @click.option(
        "--auth-database-uri",
        default=None,
        help="The auth database (default: setting auth_database_uri, else from the store).",
    )
    @wraps(function)
    def wrapper(backend_store_uri: str | None, auth_database_uri: str | None, **kw: Any) -> Any:
        overrides = {
            "backend_store_uri": backend_store_uri,
            "auth_database_uri": auth_database_uri,
        }
        return function(overrides, **kw)

    return wrapper


@contextmanager
def _store(overrides: dict[str, Any]) -> Iterator[AuthStore]:
    try:
        store = AuthStore(auth_database_uri(ServerConfig.resolve(overrides)))
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    try:
        yield store
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        store.close()


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def users() -> None:
    """Accounts of a server started with --auth."""


@users.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.password_option(help="Prompted for (at least 12 characters).")
@_database_options
def create_user(overrides: dict[str, Any], username: str, admin: bool, password: str) -> None:
    """Create USERNAME; the password is prompted for twice."""
    with _store(overrides) as store:
        store.create_user(username, password, is_admin=admin)
    click.echo(f"Created {'administrator' if admin else 'user'} {username}.")


@users.command("create-scraper")
@click.argument("username")
@_database_options
def create_scraper(overrides: dict[str, Any], username: str) -> None:
    """Create USERNAME for a metrics scraper: no password (it signs in with a token) and DENY
    on every experiment and registered model, so it may read /metrics and nothing else."""
    with _store(overrides) as store:
        store.create_user(username, None)
        for resource_type in (EXPERIMENT, REGISTERED_MODEL):
            store.grant(username, resource_type, WILDCARD, "DENY")
    click.echo(f"Created scraper account {username}; give it a token with 'runyard tokens create'.")


@users.command("list")
@_database_options
def list_users(overrides: dict[str, Any]) -> None:
    """List accounts."""
    with _store(overrides) as store:
        for user in store.list_users():
            click.echo(f"{user.username}\t{'admin' if user.is_admin else 'user'}")


@users.command("delete")
@click.argument("username")
@click.confirmation_option(prompt="Delete this account, its tokens and its grants?")
@_database_options
def delete_user(overrides: dict[str, Any], username: str) -> None:
    """Delete USERNAME with its tokens, sessions and grants."""
    with _store(overrides) as store:
        store.delete_user(username)
    click.echo(f"Deleted {username}.")


@users.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for (at least 12 characters).")
@_database_options
def set_password(overrides: dict[str, Any], username: str, password: str) -> None:
    """Set USERNAME's password."""
    with _store(overrides) as store:
        store.update_password(username, password)
    click.echo(f"Password of {username} changed.")


@click.group()
def tokens() -> None:
    """API tokens (bearer) of a server started with --auth."""


@tokens.command("create")
@click.option("--user", "username", required=True, help="Owner of the token.")
@click.option("--name", required=True, help="A name to recognise and revoke it by.")
@click.option("--expires", default="90d", show_default=True, help="Lifetime: 90d, 12h, 2w, never.")
@_database_options
def create_token(overrides: dict[str, Any], username: str, name: str, expires: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    lifetime = None if expires.strip().lower() == "never" else _duration(expires)
    with _store(overrides) as store:
        token, secret = store.create_token(username, name, lifetime)
    click.echo(secret)
    click.echo(f"Token {name!r} of {username}, expires {_time(token.expires_at)}.", err=True)


def _duration(text: str) -> dt.timedelta:
    try:
        return parse_duration(text)
    except RunyardError as exc:
        raise click.BadParameter(exc.message, param_hint="--expires") from None


@tokens.command("list")
@click.option("--user", "username", default=None, help="Only this user's tokens.")
@_database_options
def list_tokens(overrides: dict[str, Any], username: str | None) -> None:
    """List tokens (never their secrets)."""
    with _store(overrides) as store:
        for token in store.list_tokens(username):
            state = "revoked" if token.revoked_at else f"expires {_time(token.expires_at)}"
            click.echo(
                f"{token.username}\t{token.name}\t{state}\tlast used {_time(token.last_used_at)}"
            )


@tokens.command("revoke")
@click.option("--user", "username", required=True, help="Owner of the token.")
@click.option("--name", required=True, help="The token's name.")
@_database_options
def revoke_token(overrides: dict[str, Any], username: str, name: str) -> None:
    """Revoke a token at once."""
    with _store(overrides) as store:
        store.revoke_token(username, name)
    click.echo(f"Revoked token {name!r} of {username}.")
