"""Outbound webhooks: organizations subscribe URLs to events; events are written to an outbox
in the same transaction as the change they announce, and a dispatcher delivers them signed,
retrying with exponential backoff. Deliveries are logged and can be replayed."""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import httpx2 as httpx
from pydantic import Field
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from crosspromo import __version__
from crosspromo.domain.addresses import host_address, is_local_name, is_public
from crosspromo.domain.conversions import Conversion, ConversionKind
from crosspromo.domain.links import unambiguous_url
from crosspromo.domain.webhooks import (
    EVENTS,
    MAX_ATTEMPTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    retry_delay,
)
from crosspromo.errors import InvalidInputError
from crosspromo.keyring import seal, unseal
from crosspromo.services.track.inbound import inbound_endpoint, new_secret
from crosspromo.services.track.reference import Reference
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    OrganizationRepository,
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
    WebhookSecretRepository,
)

log = logging.getLogger("crosspromo.webhooks")
for _chatty in ("httpx2", "httpcore2"):  # they log each URL they call, a tenant's included
    logging.getLogger(_chatty).setLevel(logging.WARNING)
LEASE = timedelta(minutes=2)
TIMEOUT = 10.0  # a send's whole budget
CONNECT_TIMEOUT = 5.0
WORKERS = 8  # sends in flight at once
PER_ENDPOINT = 2  # of which to one endpoint


def check_endpoint_url(url: str, production: bool) -> str:
    """http(s) only, with nothing a client could read differently (backslashes, control
    characters, credentials); in production https only, and never a host that is a
    non-public address in any spelling or a local name. Names are checked again, resolved,
    each time a delivery is sent."""
    parts, hostname = unambiguous_url(url, "webhook URL", "url")
    try:
        address = host_address(hostname)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise InvalidInputError(
            f"webhook URL {url!r} has an invalid host or port", field="url"
        ) from None
    if production:
        if parts.scheme != "https":
            raise InvalidInputError("webhook URLs must use https", field="url")
        if is_local_name(hostname) or (address is not None and not is_public(address)):
            raise InvalidInputError("webhook URLs must not point at private addresses", field="url")
    return url


class Refused(Exception):
    """A delivery not sent, with the category its organization sees."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a delivery is sent: the URL to connect to (the checked address in place of the
    name, in production), the Host header and the name TLS verifies."""

    url: str
    host: str
    sni: str | None


def resolve_target(url: str, production: bool) -> Target:
    """The connection for ``url``. In production the name is resolved now and every address
    it has must be public; the connection goes to the first, so a name cannot resolve to a
    public address for the check and a private one for the connection."""
    check_endpoint_url(url, production)
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = parts.netloc
    if not production:
        return Target(url, netloc, None)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = host_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Refused("name not resolved") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses or not all(is_public(a) for a in addresses):
        raise Refused("address not allowed")
    first = addresses[0]
    shown = f"[{first}]" if first.version == 6 else str(first)
    pinned = urlunsplit(parts._replace(netloc=f"{shown}:{port}"))
    return Target(pinned, netloc, host if parts.scheme == "https" else None)


def error_category(exc: BaseException) -> str:
    """What a failed send shows its organization: a category, never the socket's words."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    text = f"{exc!r} {exc.__cause__!r} {exc.__context__!r}".lower()
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid URL"
    if "ssl" in text or "certificate" in text or "tls" in text:
        return "TLS error"
    if isinstance(exc, httpx.ConnectError):
        if "refused" in text:
            return "connection refused"
        if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            return "name not resolved"
        return "connection failed"
    if isinstance(exc, httpx.HTTPError):
        return "network error"
    return "delivery error"


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint as its organization sees it; the secret only in the answer that made it."""

    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: Annotated[str | None, Field(description="shown once, when created")] = None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> EndpointView:
        return cls(endpoint.id, endpoint.url, list(endpoint.events), endpoint.created_at, secret)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One delivery of an event to an endpoint, and how its attempts went."""

    id: int
    endpoint_id: int
    event_type: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryView:
        return cls(
            d.id, d.endpoint_id, d.event_type, d.message_id, d.status, d.attempts,
            d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at,
        )  # fmt: skip


def add_endpoint(db: Database, org_id: int, url: str, events: Sequence[str]) -> EndpointView:
    """Subscribe ``url`` to ``events``; the answer carries the signing secret, once."""
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise InvalidInputError(
            f"events must be some of {', '.join(EVENTS)}"
            + (f"; unknown: {unknown}" if unknown else ""),
            field="events",
        )
    check_endpoint_url(url, db.settings.environment == "production")
    secret = new_secret()
    with db.transaction() as session:
        endpoint = WebhookEndpointRepository(session).add(
            org_id, url, sorted(set(events)), seal(db.settings, secret)
        )
    return EndpointView.of(endpoint, secret)


def list_endpoints(db: Database, org_id: int) -> list[EndpointView]:
    with db.transaction() as session:
        return [EndpointView.of(e) for e in WebhookEndpointRepository(session).for_org(org_id)]


def remove_endpoint(db: Database, org_id: int, endpoint_id: int) -> None:
    with db.transaction() as session:
        WebhookEndpointRepository(session).remove(org_id, endpoint_id)


def list_deliveries(db: Database, org_id: int, limit: int = 100) -> list[DeliveryView]:
    with db.transaction() as session:
        return [
            DeliveryView.of(d) for d in WebhookDeliveryRepository(session).for_org(org_id, limit)
        ]


def replay_delivery(db: Database, org_id: int, delivery_id: int) -> DeliveryView:
    """Send a delivery again (same message id, so receivers can tell it is the same event)."""
    with db.transaction() as session:
        deliveries = WebhookDeliveryRepository(session)
        deliveries.get(delivery_id, org_id)
        deliveries.settle(
            delivery_id,
            {"status": DeliveryStatus.PENDING.value, "next_attempt_at": datetime.now(UTC)},
        )
        return DeliveryView.of(deliveries.get(delivery_id, org_id))


def has_endpoints(session: Session, org_id: int) -> bool:
    """Whether the organization has any webhook endpoint to write events for."""
    return bool(WebhookEndpointRepository(session).for_org(org_id))


def enqueue_event(session: Session, org_id: int, event: str, payload: dict[str, Any]) -> None:
    """Write one event to the outbox of each of the organization's endpoints that subscribe
    to it, inside the caller's transaction."""
    _enqueue(session, WebhookEndpointRepository(session).for_org(org_id), event, payload)


def _enqueue(
    session: Session, endpoints: Sequence[WebhookEndpoint], event: str, payload: dict[str, Any]
) -> None:
    deliveries = WebhookDeliveryRepository(session)
    for endpoint in endpoints:
        if event in endpoint.events:
            deliveries.enqueue(endpoint, event, f"msg_{secrets.token_hex(12)}", payload)


def enqueue_conversions(
    session: Session,
    org_id: int,
    conversions: Sequence[Conversion],
    reference: Reference | None = None,
) -> None:
    """Write conversion events to the outbox, inside the caller's transaction."""
    reference = reference or Reference(keep=False)
    endpoints = reference.endpoints(session, org_id)
    if not endpoints:
        return
    partners = reference.slugs(session, (c.partner_org_id for c in conversions if c.partner_org_id))
    for conversion in conversions:
        event = (
            "conversion.refunded"
            if conversion.kind is ConversionKind.REFUND
            else "conversion.created"
        )
        partner = partners.get(conversion.partner_org_id) if conversion.partner_org_id else None
        payload = {
            "type": event,
            "timestamp": conversion.recorded_at.isoformat(),
            "data": {
                "id": conversion.id,
                "type": str(conversion.kind),
                "partner": partner,
                "click_id": conversion.click_id,
                "order_id": conversion.order_id,
                "amount_minor": conversion.amount_minor,
                "currency": conversion.currency,
                "occurred_at": conversion.occurred_at.isoformat(),
            },
        }
        _enqueue(session, endpoints, event, payload)


class Dispatcher:
    """Delivers due outbox entries, several at once: at most ``workers`` sends in flight and
    ``per_endpoint`` to any one endpoint, so a slow or broken endpoint delays only its own
    deliveries. Every send ends settled (delivered, or an error category and the next try),
    whatever went wrong. Several dispatchers (processes, servers) may run at once: each
    delivery is leased before it is sent."""

    def __init__(
        self, db: Database, client: httpx.Client | None = None, *, workers: int = WORKERS,
        per_endpoint: int = PER_ENDPOINT,
    ) -> None:  # fmt: skip
        self.db = db
        self.production = db.settings.environment == "production"
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: we check where requests go
            headers={"user-agent": f"crosspromo/{__version__}"},
            limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers),
        )
        self.per_endpoint = per_endpoint
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._busy: Counter[int] = Counter()
        self._in_flight: set[Future[None]] = set()

    def dispatch(self, now: datetime | None = None, limit: int = 100) -> list[Future[None]]:
        """Lease due deliveries whose endpoint has room and start sending them; returns at
        once with the sends started."""
        now = now or datetime.now(UTC)
        with self.db.transaction() as session:
            due = WebhookDeliveryRepository(session).due(now, limit)
        started: list[Future[None]] = []
        for delivery_id, endpoint_id in due:
            with self._lock:
                if len(self._in_flight) >= 2 * self.workers:
                    break
                if self._busy[endpoint_id] >= self.per_endpoint:
                    continue
                self._busy[endpoint_id] += 1
            try:
                with self.db.transaction() as session:
                    delivery = WebhookDeliveryRepository(session).claim(delivery_id, now, LEASE)
                    found = None
                    if delivery is not None:
                        found = WebhookEndpointRepository(session).secret_and_url(endpoint_id)
            except Exception:
                self._done(endpoint_id)
                raise
            if delivery is None or found is None:
                self._done(endpoint_id)
                continue
            future = self._pool.submit(self._deliver, delivery, found, now)
            with self._lock:
                self._in_flight.add(future)
            future.add_done_callback(self._forget)
            started.append(future)
        return started

    def run_once(self, now: datetime | None = None, limit: int = 100) -> int:
        """Attempt every due delivery once and wait for them; returns how many were."""
        attempted = 0
        while started := self.dispatch(now, limit):
            wait(started)
            attempted += len(started)
        return attempted

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _done(self, endpoint_id: int) -> None:
        with self._lock:
            self._busy[endpoint_id] -= 1
            if self._busy[endpoint_id] <= 0:
                del self._busy[endpoint_id]

    def _deliver(
        self, delivery: WebhookDelivery, found: tuple[str, str, bool], now: datetime
    ) -> None:
        sealed, url, active = found
        try:
            if not active:
                outcome: tuple[int | None, str | None] = (None, "endpoint removed")
            else:
                outcome = self._send(delivery, unseal(self.db.settings, sealed)[0], url)
        except Exception as exc:  # whatever failed, the delivery is settled
            outcome = (None, error_category(exc))
            if outcome[1] == "delivery error":
                log.warning("webhook %s: unexpected %s", delivery.message_id, type(exc).__name__)
        try:
            self._settle(delivery, outcome, now)
        except Exception:
            log.exception("webhook %s could not be settled; its lease will end", delivery.id)
        finally:
            self._done(delivery.endpoint_id)

    def _send(
        self, delivery: WebhookDelivery, secret: str, url: str
    ) -> tuple[int | None, str | None]:
        target = resolve_target(url, self.production)
        body = json.dumps(delivery.payload, separators=(",", ":"))
        sent_at = datetime.now(UTC)
        headers = {
            "host": target.host,
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery.message_id, sent_at, body),
        }
        extensions = {"sni_hostname": target.sni} if target.sni else None
        response = self.client.post(target.url, content=body, headers=headers,
                                    extensions=extensions)  # fmt: skip
        response.close()  # the body is never read: a tenant is not shown what a server says
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    def _settle(
        self, delivery: WebhookDelivery, outcome: tuple[int | None, str | None], now: datetime
    ) -> None:
        status, error = outcome
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if error is None:
            values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": datetime.now(UTC)}
        elif attempts >= MAX_ATTEMPTS:
            values["status"] = DeliveryStatus.FAILED.value
            log.warning("webhook %s failed for good: %s", delivery.message_id, error)
        else:
            values["next_attempt_at"] = now + retry_delay(attempts)
        with self.db.transaction() as session:
            WebhookDeliveryRepository(session).settle(delivery.id, values)


CHORE_SECONDS = 60.0


class DispatcherThread:
    """Runs a Dispatcher every ``interval`` seconds inside the server process, and the
    server's ``chores`` (the ends whose notice ran out) every minute."""

    def __init__(
        self, db: Database, interval: float, chores: Sequence[Callable[[], object]] = ()
    ) -> None:
        self.dispatcher = Dispatcher(db)
        self.interval = interval
        self.chores = tuple(chores)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)
            self._thread = None
        self.dispatcher.close()

    def _run(self) -> None:
        due = 0.0  # the chores run on the first pass, then every CHORE_SECONDS
        while not self._stop.wait(self.interval):
            try:
                self.dispatcher.dispatch()  # starts sends and returns: the next pass is on time
            except Exception:
                log.exception("webhook dispatch failed; retrying")
            if time.monotonic() >= due:
                due = time.monotonic() + CHORE_SECONDS
                for chore in self.chores:
                    try:
                        chore()
                    except Exception:
                        log.exception("a server chore failed; it runs again in a minute")


@dataclass(frozen=True, slots=True)
class WebhooksPage:
    """The dashboard's webhook settings: endpoints with the delivery log, the events one may
    subscribe to, and where signed conversions come in (and whether a secret is set)."""

    endpoints: list[EndpointView]
    deliveries: list[DeliveryView]
    events: tuple[str, ...]
    inbound_endpoint: str
    inbound_secret_set: bool


def webhooks_page(db: Database, org_id: int) -> WebhooksPage:
    with db.transaction() as session:
        slug = OrganizationRepository(session).get(org_id).slug
        has_secret = WebhookSecretRepository(session).get(org_id) is not None
    return WebhooksPage(list_endpoints(db, org_id), list_deliveries(db, org_id), EVENTS,
                        inbound_endpoint(db, slug), has_secret)  # fmt: skip
