"""``flask community ...``: the extension's command line."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import click
from flask import current_app
from flask.cli import AppGroup

from hotel_community import migrations
from hotel_community.errors import CommunityError
from hotel_community.services import api_keys, properties, reconcile, staff

community_cli = AppGroup("community", help="hotel-community: migrations, properties, keys, staff.")


def _fail_on_domain_error(func):
    """Turn a domain error into a one-line message and exit status 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CommunityError as exc:
            details = f" {json.dumps(exc.details, default=str)}" if exc.details else ""
            raise click.ClickException(exc.message + details) from exc
    return wrapper


def _work_through(label: str, limit: int, count_due: Callable[[datetime], int],
                  run: Callable[..., Any]) -> None:
    """Run an outbox (``run(limit=, now=, on_each=)``) over what is due now, at most
    ``limit`` items, with a progress bar; print its summary."""
    from hotel_community.database import utcnow

    now = utcnow()
    due = min(limit, count_due(now))
    with click.progressbar(length=due, label=label, show_pos=True) as bar:
        counts = run(limit=due, now=now, on_each=lambda _outcome: bar.update(1))
    click.echo(counts.summary())


@community_cli.group("db")
def db_cli() -> None:
    """The extension's tables (its own Alembic history)."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the extension's tables."""
    migrations.upgrade(revision)
    click.echo(f"hotel-community tables at revision {migrations.current_revision()}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the extension's tables to REVISION (``base`` drops them)."""
    migrations.downgrade(revision)
    click.echo(f"hotel-community tables at revision {migrations.current_revision()}.")


@db_cli.command("current")
def db_current() -> None:
    """Print the revision the database is at, and the newest one."""
    click.echo(f"current: {migrations.current_revision()}  head: {migrations.head_revision()}")


@community_cli.group("property")
def property_cli() -> None:
    """Hotels of the chain."""


@property_cli.command("create")
@click.option("--code", required=True, help="Short code, e.g. SHA01; PMS events name it.")
@click.option("--name", required=True)
@click.option("--timezone", default="UTC", show_default=True)
@click.option("--currency", default="USD", show_default=True)
@_fail_on_domain_error
def property_create(code: str, name: str, timezone: str, currency: str) -> None:
    """Create a property with its stay group and alumni community."""
    prop = properties.create_property(code, name, timezone, currency)
    click.echo(f"Created property {prop.code} ({prop.name}).")


@property_cli.command("list")
def property_list() -> None:
    for prop in properties.list_properties():
        click.echo(f"{prop.code}\t{prop.name}\t{prop.timezone}\t{prop.currency}")


@community_cli.group("api-key")
def api_key_cli() -> None:
    """Keys a PMS signs its API requests with."""


@api_key_cli.command("create")
@click.option("--property", "code", required=True, help="Property code.")
@click.option("--label", default="", help="What the key is for, e.g. the PMS's name.")
@_fail_on_domain_error
def api_key_create(code: str, label: str) -> None:
    """Create a key; the secret is printed once and never shown again."""
    key, secret = api_keys.create_api_key(properties.get_property(code), label)
    click.echo(f"key id: {key.key_id}\nsecret: {secret}")


@api_key_cli.command("revoke")
@click.option("--property", "code", required=True)
@click.argument("key_id")
@_fail_on_domain_error
def api_key_revoke(code: str, key_id: str) -> None:
    api_keys.revoke_api_key(properties.get_property(code), key_id)
    click.echo(f"Revoked {key_id}.")


@community_cli.group("staff")
def staff_cli() -> None:
    """Built-in staff accounts."""


@staff_cli.command("create")
@click.argument("username")
@click.option("--name", default="")
@click.password_option()
@_fail_on_domain_error
def staff_create(username: str, name: str, password: str) -> None:
    """Create a staff account for the staff pages."""
    staff.create_staff(username, password, name)
    click.echo(f"Created staff user {username}.")


@community_cli.command("pms-reconcile")
@click.option("--property", "code", required=True)
@click.argument("in_house_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_fail_on_domain_error
def pms_reconcile(code: str, in_house_file: Path) -> None:
    """Bring stored stays in line with the PMS's full in-house list (a JSON file).

    The file holds ``{"generated_at": ISO time, "stays": [stay, ...]}`` with
    stays as in the PMS event API; stays stored as in house but missing from
    the list are checked out.
    """
    prop = properties.get_property(code)
    try:
        document = json.loads(in_house_file.read_text())
    except ValueError as exc:  # not JSON, or not UTF-8
        raise click.ClickException(f"{in_house_file} is not valid JSON: {exc}") from exc
    plan = reconcile.plan(prop, document)
    with click.progressbar(plan.events, label="Reconciling stays", show_pos=True) as events:
        report = reconcile.apply(prop, events)
    click.echo(report.summary())


@community_cli.command("pms-sync")
@click.option("--property", "code", help="Only this property (default: every linked one).")
@_fail_on_domain_error
def pms_sync(code: str | None) -> None:
    """Reconcile linked properties against their PMS's list of guests in house.

    Meant for cron (e.g. hourly: ``0 * * * * flask community pms-sync``); a
    property whose PMS fails is reported and left as it was, and the others go on.
    Exits with status 1 if any property failed.
    """
    from hotel_community.services import pms_inbox, pms_links

    chosen = [properties.get_property(code)] if code else pms_links.linked_properties()
    failures: list[str] = []
    summaries: list[str] = []
    with click.progressbar(chosen, label="Reconciling properties", show_pos=True,
                           item_show_func=lambda p: p.code if p else None) as bar:
        for prop in bar:
            try:
                summaries.append(f"{prop.code}: {pms_inbox.sync(prop).summary()}")
            except CommunityError as exc:
                failures.append(f"{prop.code}: {exc.message}")
    for line in summaries:
        click.echo(line)
    for line in failures:
        click.echo(f"FAILED {line}", err=True)
    click.echo(f"Synced {len(summaries)} of {len(chosen)} properties.")
    if failures:
        raise SystemExit(1)


@community_cli.command("pms-notifications")
@click.option("--limit", default=1000, show_default=True, help="Process at most this many.")
@_fail_on_domain_error
def pms_notifications(limit: int) -> None:
    """Fetch and apply the PMS webhook notifications that are due (new, or failed earlier).

    Meant for cron, every minute (``* * * * * flask community pms-notifications``);
    safe to run on several machines at once.
    """
    from hotel_community.services import pms_inbox

    _work_through("Fetching from the PMS", limit, pms_inbox.count_due, pms_inbox.process_due)


@community_cli.command("labels")
@click.option("--property", "code", required=True, help="The property's code.")
@click.option("--product", "sku", help="Only this product (its SKU).")
@click.option("--location", "location_prefix", help="Only rooms or places starting with this.")
@click.option("--base-url", required=True,
              help="Where guests reach the site, e.g. https://hotel.example (QR codes point there).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@_fail_on_domain_error
def labels_pdf(code: str, sku: str | None, location_prefix: str | None, base_url: str,
               out: Path) -> None:
    """Write an A4 PDF of shelf labels (3 x 8 a page) with the placements' QR codes."""
    from hotel_community.services import labels

    chosen = labels.selection(properties.get_property(code), sku=sku,
                              location_prefix=location_prefix)
    try:
        labels.url_builder(base_url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from exc
    with out.open("wb") as file, click.progressbar(
            length=labels.count(chosen), label="Drawing labels", show_pos=True) as bar:
        pages = labels.label_pdf(chosen, base_url, file,
                                 progress=lambda done, total: bar.update(done - bar.pos))
    click.echo(f"Wrote {bar.pos} labels on {pages} page{'' if pages == 1 else 's'} to {out}.")


@community_cli.group("orders")
def orders_cli() -> None:
    """The shop's orders."""


@orders_cli.command("expire")
@_fail_on_domain_error
def orders_expire() -> None:
    """Cancel orders whose payment hold ran out and put their stock back on sale.

    Meant for cron, every few minutes (e.g. ``*/5 * * * * flask community
    orders expire``). Without it a hold that ran out still counts against the
    stock (the item may show as sold out) until someone tries to buy it.
    """
    from hotel_community.services import orders

    expired = orders.expire_pending()
    if not expired:
        click.echo("No unpaid orders to expire.")
        return
    click.echo(f"Expired {expired} unpaid order{'' if expired == 1 else 's'}; "
               "their stock is back on sale.")


@community_cli.group("events")
def events_cli() -> None:
    """Member events."""


@events_cli.command("expire-offers")
@_fail_on_domain_error
def events_expire_offers() -> None:
    """Give waitlist offers not taken in time to the next in line.

    Meant for cron, every few minutes (e.g. ``*/5 * * * * flask community events
    expire-offers``). Without it a place offered to someone who never pays stays
    held after the offer ran out.
    """
    from hotel_community.services import events

    expired = events.expire_offers()
    if not expired:
        click.echo("No waitlist offers to expire.")
        return
    click.echo(f"Expired {expired} waitlist offer{'' if expired == 1 else 's'}; "
               "their places went to the next in line.")


@community_cli.group("room-charges")
def room_charges_cli() -> None:
    """Charges to guests' rooms (the outbox to the PMS folios)."""


@room_charges_cli.command("post")
@click.option("--limit", default=1000, show_default=True, help="Post at most this many.")
@_fail_on_domain_error
def room_charges_post(limit: int) -> None:
    """Post the due room charges to the PMS folios; retry failed ones, send the hopeless to the desk.

    Meant for cron, every few minutes (e.g. ``*/5 * * * * flask community room-charges
    post``); safe to run on several machines at once.
    """
    from hotel_community.services import room_charges

    _work_through("Posting room charges", limit, room_charges.count_due, room_charges.post_due)


@community_cli.command("settle-campaigns")
@_fail_on_domain_error
def settle_campaigns() -> None:
    """Settle the crowdfunding campaigns past their deadline and retry updated cards.

    Goal met: every active pledge is charged once; missed: nothing is charged and the
    saved cards are let go. Meant for cron (e.g. ``*/5 * * * * flask community
    settle-campaigns``); safe to run on several machines at once.
    """
    from hotel_community.database import session, utcnow
    from hotel_community.models import Campaign
    from hotel_community.services import settlement

    now = utcnow()
    with click.progressbar(length=settlement.count_due(now), label="Settling campaigns",
                           show_pos=True) as bar:
        run = settlement.settle_due(now, on_each=lambda _campaign: bar.update(1))
    retried = settlement.retry_failed(now)
    click.echo(run.summary())
    click.echo("Retries: " + retried.summary())
    for campaign_id in sorted(run.campaigns | retried.campaigns):
        click.echo(settlement.describe(session.get(Campaign, campaign_id)))


@community_cli.command("plugins")
def plugins_list() -> None:
    """List the loaded plugins and what they provide."""
    from hotel_community.extension import state

    plugins = state(current_app).plugins
    click.echo("plugins: " + ", ".join(plugins.names()))
    click.echo("PMS adapters: " + (", ".join(sorted(plugins.pms_adapters)) or "-"))
    click.echo("payment providers: " + (", ".join(sorted(plugins.payment_providers)) or "-"))
