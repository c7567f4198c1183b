"""Create and look up organizations (tenants)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crosspromo.domain import Organization, OrgKind
from crosspromo.domain.choices import one_of
from crosspromo.domain.models import check_slug
from crosspromo.errors import InvalidInputError
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, PartnershipRepository


@dataclass(frozen=True, slots=True)
class OrganizationView:
    """An organization as others see it: its slug names it, its id stays inside."""

    slug: str
    name: str
    kind: OrgKind
    category: str

    @classmethod
    def of(cls, org: Organization) -> OrganizationView:
        return cls(org.slug, org.name, org.kind, org.category)


def create_organization(
    db: Database, slug: str, name: str, kind: OrgKind | str, category: str = ""
) -> Organization:
    check_slug(slug, "organization slug")
    if not name.strip():
        raise InvalidInputError("organization name must not be empty", field="name")
    org_kind = one_of(OrgKind, kind, "kind")
    with db.transaction() as session:
        return OrganizationRepository(session).add(slug, name.strip(), org_kind, category)


def list_organizations(db: Database) -> list[OrganizationView]:
    with db.transaction() as session:
        return [OrganizationView.of(o) for o in OrganizationRepository(session).list()]


def get_organization(db: Database, slug: str) -> Organization:
    """The organization with ``slug``; NotFoundError naming the slug otherwise."""
    with db.transaction() as session:
        return OrganizationRepository(session).by_slug(slug)


def organization_slugs(db: Database, ids: set[int]) -> dict[int, str]:
    """Slugs of the organizations with ``ids``."""
    with db.transaction() as session:
        return {i: o.slug for i, o in OrganizationRepository(session).many(ids).items()}


def organization_names(db: Database, slugs: Iterable[str]) -> dict[str, str]:
    """Names of the organizations with ``slugs``, by slug (for pages that get slugs)."""
    with db.transaction() as session:
        return OrganizationRepository(session).names(slugs)


def organization_choices(db: Database, org_id: int) -> list[OrganizationView]:
    """The organizations ``org_id`` could propose a partnership to (every other one on this
    server without an open partnership with it), by name."""
    with db.transaction() as session:
        taken = PartnershipRepository(session).open_partner_ids(org_id)
        others = [o for o in OrganizationRepository(session).list()
                  if o.id != org_id and o.id not in taken]  # fmt: skip
    return sorted((OrganizationView.of(o) for o in others), key=lambda o: o.name.lower())
