"""Small repository classes over one Session. Services own the transaction."""

from crosspromo.store.repositories.accounts import (
    ApiKeyRepository,
    InvitationRepository,
    InvitationRow,
    LoginSessionRepository,
    LoginSessionRow,
    LoginThrottleRepository,
    OrganizationRepository,
    UserRepository,
)
from crosspromo.store.repositories.agreements import (
    RecordRepository,
    SigningKeyRepository,
    SigningKeyRow,
)
from crosspromo.store.repositories.base import Repository, utcnow
from crosspromo.store.repositories.commissions import (
    CommissionRepository,
    FraudSettingsRepository,
    HoldRepository,
)
from crosspromo.store.repositories.conversions import (
    ConversionRepository,
    IdempotencyRepository,
    PartnerCodeRepository,
)
from crosspromo.store.repositories.customers import CustomerRepository
from crosspromo.store.repositories.events import EventRepository, SampleRunRepository
from crosspromo.store.repositories.experiments import (
    ExperimentOutcomeRepository,
    ExperimentRepository,
)
from crosspromo.store.repositories.journeys import JourneyRepository, TouchpointRepository
from crosspromo.store.repositories.ledger import LedgerRepository, Totals
from crosspromo.store.repositories.links import (
    ClickJournalRepository,
    ClickRepository,
    DomainRepository,
    LinkRepository,
    SaltRepository,
)
from crosspromo.store.repositories.overlap import OverlapRepository
from crosspromo.store.repositories.partnerships import PartnershipRepository
from crosspromo.store.repositories.payouts import (
    CostRepository,
    PayoutDetailsRepository,
    PayoutRepository,
    PayoutRow,
    StatementRepository,
)
from crosspromo.store.repositories.plan import (
    BlackoutRepository,
    CalendarRepository,
    CampaignRepository,
    ChecklistRepository,
    FeedRepository,
    PlanSettingsRepository,
)
from crosspromo.store.repositories.profiles import ProfileRepository
from crosspromo.store.repositories.stats import StatsRepository
from crosspromo.store.repositories.webhooks import (
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
    WebhookSecretRepository,
)

__all__ = [
    "ApiKeyRepository",
    "BlackoutRepository",
    "CalendarRepository",
    "CampaignRepository",
    "ChecklistRepository",
    "ClickJournalRepository",
    "ClickRepository",
    "CommissionRepository",
    "ConversionRepository",
    "CostRepository",
    "CustomerRepository",
    "DomainRepository",
    "EventRepository",
    "ExperimentOutcomeRepository",
    "ExperimentRepository",
    "FeedRepository",
    "FraudSettingsRepository",
    "HoldRepository",
    "IdempotencyRepository",
    "InvitationRepository",
    "InvitationRow",
    "JourneyRepository",
    "LedgerRepository",
    "LinkRepository",
    "LoginSessionRepository",
    "LoginSessionRow",
    "LoginThrottleRepository",
    "OrganizationRepository",
    "OverlapRepository",
    "PartnerCodeRepository",
    "PartnershipRepository",
    "PayoutDetailsRepository",
    "PayoutRepository",
    "PayoutRow",
    "PlanSettingsRepository",
    "ProfileRepository",
    "RecordRepository",
    "Repository",
    "SaltRepository",
    "SampleRunRepository",
    "SigningKeyRepository",
    "SigningKeyRow",
    "StatementRepository",
    "StatsRepository",
    "Totals",
    "TouchpointRepository",
    "UserRepository",
    "WebhookDeliveryRepository",
    "WebhookEndpointRepository",
    "WebhookSecretRepository",
    "utcnow",
]
