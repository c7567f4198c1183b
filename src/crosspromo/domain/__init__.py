"""Frozen dataclasses and enums of the business: no I/O."""

from crosspromo.domain.models import (
    ApiKey,
    ConsentPurpose,
    Customer,
    Event,
    Organization,
    OrgKind,
    Partnership,
    PartnershipStatus,
    Role,
    User,
)

__all__ = [
    "ApiKey",
    "ConsentPurpose",
    "Customer",
    "Event",
    "OrgKind",
    "Organization",
    "Partnership",
    "PartnershipStatus",
    "Role",
    "User",
]
