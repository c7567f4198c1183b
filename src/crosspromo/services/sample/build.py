"""Write the sample ecosystem into the store, in one transaction, with its ground truth."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain import OrgKind, PartnershipStatus
from crosspromo.domain.conversions import TouchKind
from crosspromo.domain.links import tagged_destination
from crosspromo.errors import ConflictError
from crosspromo.sample import generate
from crosspromo.sample.catalog import SEGMENTS
from crosspromo.sample.ecosystem import Ecosystem
from crosspromo.sample.experiment import SampleExperiment, generate_experiment
from crosspromo.sample.journeys import SampleJourneys, generate_journeys
from crosspromo.sample.purchases import SamplePurchases, generate_purchases
from crosspromo.sample.tracking import SampleTracking, generate_tracking
from crosspromo.security import customer_id_hash, customer_id_hashes, normalize_external_id
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.sample.agreements import write_agreement
from crosspromo.services.sample.payments import plant_costs, plant_duplicates, settle
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ClickRepository,
    ConversionRepository,
    CustomerRepository,
    DomainRepository,
    ExperimentRepository,
    LinkRepository,
    OrganizationRepository,
    PartnershipRepository,
    SampleRunRepository,
    TouchpointRepository,
)

Progress = Callable[[int, int], None]
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class SampleSummary:
    seed: int
    scale: int
    organizations: int
    customers: int
    partnerships: int
    reused: bool
    truth: Annotated[dict[str, Any], Field(exclude=True)]  # the ground truth, never printed


def sample_summary(db: Database) -> SampleSummary | None:
    """The sample already built into this database, if any."""
    with db.transaction() as session:
        latest = SampleRunRepository(session).latest()
    if latest is None:
        return None
    seed, scale, truth = latest
    return _summary(seed, scale, truth, reused=True)


def build_sample(
    db: Database, seed: int = 42, scale: int = 100, progress: Progress | None = None
) -> SampleSummary:
    """Build the ecosystem for ``seed`` unless it is there already (then reuse it).

    ``progress(done, total)`` is called as customers are written. Everything is written in
    one transaction: an interrupted build leaves nothing behind.
    """
    existing = sample_summary(db)
    if existing is not None:
        if (existing.seed, existing.scale) != (seed, scale):
            raise ConflictError(
                f"this database already holds the sample with seed {existing.seed} and scale "
                f"{existing.scale}; use a fresh database for another one"
            )
        return existing
    ecosystem = generate(seed, scale)
    truth = ecosystem.truth()
    secret = identity_secret(db)
    total = ecosystem.customer_count
    done = 0
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        taken = [s.slug for s in ecosystem.organizations if orgs.find_slug(s.slug) is not None]
        if taken:
            raise ConflictError(
                f"organizations {', '.join(taken)} already exist; build the sample into a fresh "
                "database"
            )
        ids = {
            s.slug: orgs.add(s.slug, s.name, s.kind, s.category).id for s in ecosystem.organizations
        }
        customers = CustomerRepository(session)
        for slug, audience in ecosystem.audiences.items():
            org_id = ids[slug]
            external = audience.external_ids()
            for start in range(0, len(external), _CHUNK):
                stop = start + _CHUNK
                rows = [
                    {
                        "org_id": org_id,
                        "external_id_hash": customer_id_hash(secret, org_id, ext),
                        "consent_partner_sharing": bool(share),
                        "consent_promotional_email": bool(mail),
                        "segment": SEGMENTS[int(seg)],
                    }
                    for ext, share, mail, seg in zip(
                        external[start:stop],
                        audience.partner_sharing[start:stop],
                        audience.promotional_email[start:stop],
                        audience.segments[start:stop],
                        strict=True,
                    )
                ]
                done += customers.add_many(rows)
                if progress is not None:
                    progress(done, total)
        partnerships = PartnershipRepository(session)
        for (initiator, partner, name, status), (started, changed) in zip(
            ecosystem.partnerships, ecosystem.partnership_dates, strict=True
        ):
            item = partnerships.add(ids[initiator], ids[partner], name, PartnershipStatus.PROSPECT,
                                    started, started)  # fmt: skip
            write_agreement(session, db.settings, item, status, started, changed)
        tracking = generate_tracking(
            seed, scale, ecosystem.partnerships, ecosystem.partnership_dates
        )
        _write_tracking(session, tracking, ids)
        truth["tracking"] = tracking.truth()
        paying = {o.slug: ids[o.slug] for o in ecosystem.organizations if o.kind is OrgKind.BRAND}
        truth["pay"] = {"claimed_twice": plant_duplicates(session, paying)}
        journeys = _journeys(seed, ecosystem)
        if journeys is not None:
            _write_journeys(session, journeys, ids, secret)
            truth["journeys"] = journeys.truth()
            units = ecosystem.audiences[journeys.brand].external_ids()
            experiment = generate_experiment(seed, units)
            _write_experiment(session, experiment, ids[journeys.brand], secret)
            truth["experiment"] = experiment.truth()
        active = dict(_brands_with_partners(ecosystem))
        truth["pay"]["costs_minor"] = plant_costs(
            session, {b: paying[b] for b in active}, {b: list(p) for b, p in active.items()},
            journeys.brand if journeys is not None else "",
        )  # fmt: skip
        purchases = _purchases(seed, ecosystem)
        if purchases is not None:
            _write_purchases(session, purchases, ids, secret)
            truth["purchases"] = purchases.truth()
        # imported here: the overlap protocol's libraries need not load with every command
        from crosspromo.services.sample.partners import write_discovery

        brands = _brands_with_partners(ecosystem)
        truth["discovery"] = {
            "brand": brands[0][0] if brands else None,
            "overlaps": write_discovery(session, ecosystem, ids, brands[0][0] if brands else None),
        }
        SampleRunRepository(session).add(seed, scale, truth)
    settle(
        db, list(paying.values())
    )  # commissions and payouts, each in its own transaction as in use
    if brands:  # campaigns, calendar, assets, offer and landing page, through the services
        from crosspromo.services.sample.plan import plant_plan

        plant_plan(db, brands[0][0], ids, brands[0][1])
    return _summary(seed, scale, truth, reused=False)


def _summary(seed: int, scale: int, truth: dict[str, Any], *, reused: bool) -> SampleSummary:
    orgs = truth["organizations"]
    return SampleSummary(
        seed=seed,
        scale=scale,
        organizations=len(orgs),
        customers=sum(o["customers"] for o in orgs.values()),
        partnerships=len(truth["partnerships"]),
        reused=reused,
        truth=truth,
    )


def _brands_with_partners(ecosystem: Ecosystem) -> list[tuple[str, tuple[str, ...]]]:
    """Brands with active partners, in the ecosystem's order, with those partners."""
    found = []
    for brand in (o.slug for o in ecosystem.organizations if o.kind is OrgKind.BRAND):
        partners = tuple(
            sorted(
                p
                for b, p, _name, status in ecosystem.partnerships
                if b == brand and status is PartnershipStatus.ACTIVE
            )
        )
        if partners:
            found.append((brand, partners))
    return found


def _journeys(seed: int, ecosystem: Ecosystem) -> SampleJourneys | None:
    """Journeys for the first brand with active partners, over its whole audience."""
    for brand, partners in _brands_with_partners(ecosystem)[:1]:
        customers = ecosystem.audiences[brand].external_ids()
        return generate_journeys(seed, brand, partners, customers)
    return None


def _purchases(seed: int, ecosystem: Ecosystem) -> SamplePurchases | None:
    """A purchase history with known per-source parameters for the first brand with active
    partners, over the 78 weeks to the sample's today; its journeys and experiment add sales
    from October 2026, so a calibration ending 2026-09-30 sees these purchases only."""
    for brand, partners in _brands_with_partners(ecosystem)[:1]:
        customers = ecosystem.audiences[brand].external_ids()
        return generate_purchases(seed, brand, partners, customers)
    return None


def _write_purchases(
    session: Session, purchases: SamplePurchases, ids: dict[str, int], secret: str
) -> None:
    """Every purchase as a sale; a partner-acquired customer's first one came through the
    partner."""
    org_id = ids[purchases.brand]
    log = purchases.log
    people = log.column("customer").to_pylist()
    distinct = sorted(set(people))
    hashes = dict(zip(distinct, customer_id_hashes(secret, org_id, distinct), strict=True))
    seen: set[str] = set()
    rows = []
    for n, (person, day, amount, source) in enumerate(
        zip(people, *(log.column(c).to_pylist() for c in ("date", "amount", "source")),
            strict=True)
    ):  # fmt: skip
        row = _direct_sale(
            org_id, f"purchase-{n}", hashes[person], round(amount * 100),
            datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12),
        )  # fmt: skip
        if person not in seen and source != "organic":
            row["partner_org_id"] = ids[source]
        seen.add(person)
        rows.append(row)
    ConversionRepository(session).add_many(rows)


def _write_journeys(
    session: Session, journeys: SampleJourneys, ids: dict[str, int], secret: str
) -> None:
    """The journeys' touches as imported touchpoints, their sales as conversions."""
    org_id = ids[journeys.brand]
    people = sorted({t.customer for t in journeys.touches})
    hashes = dict(zip(people, customer_id_hashes(secret, org_id, people), strict=True))
    TouchpointRepository(session).add_new(
        [
            {
                "org_id": org_id,
                "touch_id": f"sample-{n}",
                "customer_hash": hashes[touch.customer],
                "kind": str(TouchKind.EMAIL_OPEN if "email" in touch.channel else TouchKind.VISIT),
                "channel": touch.channel,
                "partner_org_id": ids[touch.partner] if touch.partner else None,
                "occurred_at": touch.at,
            }
            for n, touch in enumerate(journeys.touches)
        ]
    )
    ConversionRepository(session).add_many(
        [
            _direct_sale(org_id, f"journey-{n}", hashes[sale.customer], sale.amount_minor, sale.at)
            for n, sale in enumerate(journeys.sales)
        ]
    )


EXPOSED_AT = datetime(2026, 10, 20, 9, tzinfo=UTC)


def _write_experiment(
    session: Session, experiment: SampleExperiment, org_id: int, secret: str
) -> None:
    """The experiment, every unit's exposure, and the sales of those who converted."""
    stored = ExperimentRepository(session).add(
        org_id, "Partner offer: sent by the partner or by us?", experiment.design
    )
    units = experiment.units
    people = [normalize_external_id(u) for u in units.column("unit").to_pylist()]
    hashes = customer_id_hashes(secret, org_id, people)
    arms = units.column("arm").to_pylist()
    ExperimentRepository(session).add_exposures(
        [
            {
                "org_id": org_id,
                "experiment_id": stored.id,
                "unit_hash": unit_hash,
                "arm": arm,
                "exposed_at": EXPOSED_AT,
            }
            for unit_hash, arm in zip(hashes, arms, strict=True)
        ]
    )
    converted = units.column("converted").to_pylist()
    revenue = units.column("revenue").to_pylist()
    ConversionRepository(session).add_many(
        [
            _direct_sale(
                org_id,
                f"offer-{n}",
                unit_hash,
                round(amount * 100),
                EXPOSED_AT + timedelta(days=2, hours=n % 48),
            )
            for n, (unit_hash, won, amount) in enumerate(
                zip(hashes, converted, revenue, strict=True)
            )
            if won
        ]
    )


def _direct_sale(
    org_id: int, order_id: str, customer_hash: str, amount_minor: int, at: datetime
) -> dict[str, Any]:
    """A sale in euros by a known customer, through no partner link or code."""
    return {
        "org_id": org_id,
        "kind": "sale",
        "partner_org_id": None,
        "link_id": None,
        "click_id": None,
        "code_id": None,
        "order_id": order_id,
        "customer_hash": customer_hash,
        "amount_minor": amount_minor,
        "currency": "EUR",
        "occurred_at": at,
    }


def _write_tracking(session: Session, tracking: SampleTracking, ids: dict[str, int]) -> None:
    """Links, clicks and conversions of the sample, through the same repositories as live data."""
    domains = DomainRepository(session)
    links = LinkRepository(session)
    link_ids: list[int] = []
    for link in tracking.links:
        domain = f"{link.brand}.example"
        domains.add(ids[link.brand], domain)
        destination = tagged_destination(
            f"https://shop.{domain}/",
            frozenset({domain}),
            source=link.partner,
            campaign=link.campaign,
        )
        stored = links.add(
            ids[link.brand], ids[link.partner], link.code, destination, link.campaign
        )
        link_ids.append(stored.id)
    rows = []
    for click in tracking.clicks:
        link = tracking.links[click.link]
        visitor = hashlib.sha256(click.visitor.encode()).hexdigest()
        rows.append(
            {
                "link_id": link_ids[click.link],
                "org_id": ids[link.brand],
                "partner_org_id": ids[link.partner],
                "click_id": click.click_id,
                "clicked_at": click.at,
                "visitor_hash": visitor,
                "visit_key": f"{visitor[:32]}:{click.at:%Y%m%d%H}",
                "referer": None,
                "is_bot": click.is_bot,
            }
        )
    ClickRepository(session).add_many(rows)
    conversions = []
    for item in tracking.conversions:
        link = tracking.links[item.link]
        conversions.append(
            {
                "org_id": ids[link.brand],
                "kind": item.kind,
                "partner_org_id": ids[link.partner],
                "link_id": link_ids[item.link],
                "click_id": item.click_id,
                "code_id": None,
                "order_id": item.order_id,
                "customer_hash": None,
                "amount_minor": item.amount_minor,
                "currency": "EUR" if item.kind == "sale" else None,
                "occurred_at": item.at,
            }
        )
    ConversionRepository(session).add_many(conversions)
