"""`cadenza tenants create|add-key|list|keys|revoke-key|rotate-key`: tenants and their API keys (a key is printed once, stored hashed)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Manage API tenants and their keys.")


def _sessions():
    from infra.database import make_engine, make_session_factory
    from infra.settings import ServiceSettings

    return make_session_factory(make_engine(ServiceSettings().database_url, pool_size=1, max_overflow=0))


@app.command()
def create(name: str = typer.Argument(..., help="tenant id: lowercase letters, digits, '-', '_'"),
           rate: float = typer.Option(5.0, help="sustained writes per second (0: unlimited)"),
           burst: int = typer.Option(20, help="writes allowed at once before the rate applies"),
           max_in_flight: int = typer.Option(10, help="compositions not yet finished (0: unlimited)")) -> None:
    """Create a tenant and print its API key (shown only this once)."""
    from composition.errors import CadenzaError
    from tenancy.keys import create_tenant

    try:
        key = create_tenant(_sessions(), name, rate_per_s=rate, burst=burst, max_in_flight=max_in_flight)
    except CadenzaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(key)
    typer.echo(f"tenant {name} created; keep the key above, it is not stored (only its hash is)", err=True)


@app.command("add-key")
def add_key(name: str) -> None:
    """Give an existing tenant another API key and print it."""
    from composition.errors import CadenzaError
    from tenancy.keys import add_key as add

    try:
        typer.echo(add(_sessions(), name))
    except CadenzaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("list")
def list_tenants() -> None:
    """Tenants, their limits and how many keys they have."""
    from sqlalchemy import func, select

    from tenancy.models import ApiKey, Tenant

    with _sessions()() as session:
        rows = session.execute(select(Tenant, func.count(ApiKey.id)).outerjoin(ApiKey, ApiKey.tenant_id == Tenant.id)
                               .group_by(Tenant.id).order_by(Tenant.id)).all()
    for tenant, keys in rows:
        typer.echo(f"{tenant.id:24} rate {tenant.rate_per_s:g}/s burst {tenant.burst} "
                   f"in-flight {tenant.max_in_flight or 'unlimited'}  keys {keys}")


@app.command("keys")
def keys(name: str) -> None:
    """A tenant's keys: prefix, when made, when revoked."""
    from composition.errors import CadenzaError
    from tenancy.keys import list_keys

    try:
        found = list_keys(_sessions(), name)
    except CadenzaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for key in found:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M:%S}" if key.revoked_at else "active"
        typer.echo(f"{key.prefix}  created {key.created_at:%Y-%m-%d %H:%M:%S}  {state}")


@app.command("revoke-key")
def revoke_key(key: str = typer.Argument(..., help="the key, or its prefix as `cadenza tenants keys` shows it")) -> None:
    """Revoke one API key. Every API process refuses it within CADENZA_API_KEY_CACHE_S (30 s by default)."""
    from composition.errors import CadenzaError
    from tenancy.keys import revoke_key as revoke

    try:
        info = revoke(_sessions(), key)
    except CadenzaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"key {info.prefix}... of tenant {info.tenant_id} revoked; API processes refuse it within "
               f"their key cache time (CADENZA_API_KEY_CACHE_S)")


@app.command("rotate-key")
def rotate_key(name: str,
               grace: float = typer.Option(0, min=0, help="seconds the old keys keep working (0: revoked at once)")) -> None:
    """Print a new API key for the tenant and revoke its other keys (after --grace seconds)."""
    from composition.errors import CadenzaError
    from tenancy.keys import rotate_key as rotate

    try:
        key, retired = rotate(_sessions(), name, grace_s=grace)
    except CadenzaError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(key)
    when = f"in {grace:g} s" if grace else "now"
    typer.echo(f"tenant {name}: new key above; {len(retired)} old key(s) ({', '.join(retired) or 'none'}) stop {when} "
               f"(and within CADENZA_API_KEY_CACHE_S in every API process)", err=True)
