"""`cadenza tenants create|add-key|list`: tenants and their API keys (a key is printed once, stored hashed)."""

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
