"""Agreements: nothing is active, issues links or codes, or credits a conversion until the
other party accepts the same terms; nobody accepts for another; each step is a signed entry
the exported record verifies; an organization that keeps its key off the server signs its
own acceptance, and the server cannot make one for it (acceptance 1 and 3)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from nacl.signing import SigningKey
from sqlalchemy import text

from crosspromo.domain import OrgKind, PartnershipStatus, Role
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.record import next_entry, public_key_of, verify
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.accounts.invitations import accept_invitation
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.agree import agreements
from crosspromo.services.agree.agreements import accept, decline, move, offer, propose
from crosspromo.services.agree.invited import propose_to_newcomer
from crosspromo.services.agree.keys import signer
from crosspromo.services.agree.partnerships import (
    change_status,
    get_partnership,
    propose_partnership,
)
from crosspromo.services.agree.performance import add_statement, targets
from crosspromo.services.agree.records import commit, end_due, export, load
from crosspromo.services.agree.rotation import hold_key_locally, rotate_key
from crosspromo.services.agree.terms import parse_terms, template
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.services.track.outbound import add_endpoint, list_deliveries
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository


@pytest.fixture
def orgs(db: Database) -> dict[str, int]:
    made = {slug: create_organization(db, slug, slug.title(), kind).id
            for slug, kind in (("acme", OrgKind.BRAND), ("beans", OrgKind.PARTNER),
                               ("mallory", OrgKind.BRAND))}  # fmt: skip
    add_domain(db, made["acme"], "acme.example")
    return made


def _bundle(db: Database, org_id: int, partnership_id: int) -> bytes:
    with db.transaction() as session:
        return export(session, load(session, org_id, partnership_id))


def _sale(code: str) -> ConversionInput:
    return ConversionInput(ConversionKind.SALE, datetime(2026, 11, 2, tzinfo=UTC),
                           amount_minor=5000, currency="EUR", referral_code=code)  # fmt: skip


def test_nothing_is_active_or_credited_until_the_other_party_accepts(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans, mallory = orgs["acme"], orgs["beans"], orgs["mallory"]
    made = propose(db, acme, "beans", template("acme", "beans"))
    pid = made.partnership_id
    assert (made.version, made.status) == (1, PartnershipStatus.NEGOTIATING)
    with pytest.raises(NotFoundError, match="no active partnership"):
        create_link(db, acme, "beans", "https://acme.example/p")
    with pytest.raises(NotFoundError, match="no active partnership"):
        create_code(db, acme, "beans", "BEANS10", CodeKind.REFERRAL)
    with pytest.raises(ConflictError, match="both parties accept"):
        change_status(db, acme, pid, PartnershipStatus.ACTIVE)
    with pytest.raises(ConflictError, match="already accepted version 1"):
        accept(db, acme, pid, 1)  # the proposer's offer is its acceptance; it cannot add another
    with pytest.raises(NotFoundError):
        accept(db, mallory, pid, 1)  # another tenant cannot even see it
    assert get_partnership(db, acme, pid).status is PartnershipStatus.NEGOTIATING

    done = accept(db, beans, pid, 1)
    assert (done.version, done.status) == (1, PartnershipStatus.ACTIVE)
    create_link(db, acme, "beans", "https://acme.example/p")
    create_code(db, acme, "beans", "BEANS10", CodeKind.REFERRAL)
    first = record_conversions(db, acme, [_sale("BEANS10")]).conversions[0]
    assert first.partner == "beans"
    change_status(db, beans, pid, PartnershipStatus.PAUSED, reason="stock-out")  # either side
    paused = record_conversions(db, acme, [_sale("BEANS10")]).conversions[0]
    assert paused.partner is None  # kept, credited to nobody
    with pytest.raises(NotFoundError, match="no active partnership"):
        create_link(db, acme, "beans", "https://acme.example/q")
    change_status(db, acme, pid, PartnershipStatus.ACTIVE, reason="restocked")  # resume
    assert record_conversions(db, acme, [_sale("BEANS10")]).conversions[0].partner == "beans"
    verdict = verify(_bundle(db, beans, pid))
    assert verdict.valid, verdict.error
    assert verdict.entries == 4  # proposal, acceptance, pause, resume


def test_counter_accept_amend_decline_and_end_are_signed_entries(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    terms = template("acme", "beans")
    pid = propose(db, acme, "beans", terms).partnership_id
    higher = parse_terms(terms.document() | {"strategy": "bundle"})
    countered = offer(db, beans, pid, higher)
    assert (countered.version, countered.status) == (2, PartnershipStatus.NEGOTIATING)
    with pytest.raises(ConflictError, match="only the newest offer"):
        accept(db, beans, pid, 1)
    with pytest.raises(ConflictError, match="already accepted version 2"):
        accept(db, beans, pid, 2)
    assert accept(db, acme, pid, 2).status is PartnershipStatus.ACTIVE
    amended = offer(db, acme, pid, terms)  # an amendment: version 2 stays in force meanwhile
    assert (amended.version, amended.status) == (3, PartnershipStatus.ACTIVE)
    declined = decline(db, beans, pid, 3, "we keep the bundle")
    assert (declined.version, declined.status) == (3, PartnershipStatus.ACTIVE)
    with db.transaction() as session:
        state = load(session, acme, pid).state
    assert state.in_force == 2
    ending = move(db, beans, pid, "end", "season over", at=datetime(2026, 12, 1, tzinfo=UTC))
    assert ending.status is PartnershipStatus.ACTIVE  # the terms' 30 days' notice runs
    with db.transaction() as session:
        last = load(session, acme, pid).entries[-1]
    assert last.body == {"reason": "season over", "effective_on": "2026-12-31",
                         "survives": ["earned_commissions", "data_deletion"]}  # fmt: skip
    assert get_partnership(db, acme, pid).ends_on == date(2026, 12, 31)
    with pytest.raises(ConflictError, match=r"ends on 2026-12-31|has ended"):
        offer(db, acme, pid, terms)  # nothing new is agreed during the notice, nor after it
    assert end_due(db, date(2026, 12, 30)) == 0
    assert end_due(db, date(2026, 12, 31)) == 1
    assert get_partnership(db, beans, pid).status is PartnershipStatus.ENDED
    with db.transaction() as session:  # a statement after the end leaves it ended
        loaded = load(session, acme, pid)
        key = signer(session, db.settings, acme)
        assert key is not None
        late = next_entry(loaded.record_id, loaded.entries, "statement", "acme", key,
                          "2027-01-05T00:00:00Z", {"month": "2026-12"})  # fmt: skip
        assert commit(session, loaded, late).status is PartnershipStatus.ENDED
    assert get_partnership(db, acme, pid).status is PartnershipStatus.ENDED
    kinds = [e["kind"] for e in json.loads(_bundle(db, acme, pid))["entries"]]
    assert kinds == [
        "proposal",
        "counter",
        "acceptance",
        "amendment",
        "decline",
        "end",
        "statement",
    ]
    assert verify(_bundle(db, acme, pid)).valid


def test_declined_proposal_ends_and_bad_terms_are_named(db: Database, orgs: dict[str, int]) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    with pytest.raises(InvalidInputError, match="parties must be acme and beans"):
        propose(db, acme, "beans", template("acme", "mallory"))
    pid = propose(db, acme, "beans", template("acme", "beans")).partnership_id
    with pytest.raises(ConflictError, match="already proposed"):
        propose(db, beans, "acme", template("acme", "beans"))
    assert decline(db, beans, pid, 1, "not now").status is PartnershipStatus.ENDED
    again = propose(db, beans, "acme", template("acme", "beans"))  # a new partnership
    assert again.partnership_id != pid


def test_each_entry_is_announced_to_both_parties_and_kept_append_only(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    add_endpoint(db, acme, "https://hooks.acme.example/in", ["agreement.entry"])
    add_endpoint(db, beans, "https://hooks.beans.example/in", ["agreement.entry"])
    pid = propose(db, acme, "beans", template("acme", "beans")).partnership_id
    accept(db, beans, pid, 1)
    for org in (acme, beans):
        sent = list_deliveries(db, org)
        assert [d.event_type for d in sent] == ["agreement.entry"] * 2
    with pytest.raises(Exception, match="append-only"), db.transaction() as session:
        session.execute(text("UPDATE record_entries SET kind = 'decline'"))
    with pytest.raises(Exception, match="append-only"), db.transaction() as session:
        session.execute(text("DELETE FROM record_entries"))
    assert verify(_bundle(db, acme, pid)).valid


def test_a_locally_held_key_signs_and_the_server_cannot(db: Database, orgs: dict[str, int]) -> None:
    """Acceptance 3: once beans holds its key, the server refuses to sign for it, an entry
    signed with anything but beans's own key is refused, and beans's own acceptance makes the
    partnership active and verifies."""
    acme, beans = orgs["acme"], orgs["beans"]
    pid = propose(db, acme, "beans", template("acme", "beans")).partnership_id
    with db.transaction() as session:
        old_server_key = signer(session, db.settings, beans)
    assert old_server_key is not None
    own = SigningKey(b"o" * 32)  # made and kept by beans
    hold_key_locally(db, beans, public_key_of(own))
    with pytest.raises(ConflictError, match="keeps its signing key itself"):
        accept(db, beans, pid, 1)
    draft = agreements.draft_entry(db, beans, pid, "acceptance", version=1)
    for forger in (old_server_key, SigningKey(b"x" * 32)):
        forged = draft.signed_with(forger)
        with pytest.raises(InvalidInputError, match="does not verify"):
            agreements.submit_entry(db, beans, pid, forged)
    assert get_partnership(db, beans, pid).status is PartnershipStatus.NEGOTIATING
    done = agreements.submit_entry(db, beans, pid, draft.signed_with(own))
    assert done.status is PartnershipStatus.ACTIVE
    verdict = verify(_bundle(db, acme, pid))
    assert verdict.valid, verdict.error
    with db.transaction() as session:
        kinds = [e.kind for e in load(session, acme, pid).entries]
    assert kinds == ["proposal", "key_rotation", "acceptance"]
    with pytest.raises(ConflictError, match="only it can sign"):
        rotate_key(db, beans)


def test_a_rotated_server_key_is_handed_over_in_the_record(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    pid = propose(db, acme, "beans", template("acme", "beans")).partnership_id
    rotate_key(db, acme)
    accept(db, beans, pid, 1)
    move(db, acme, pid, "pause", "audit")
    data = _bundle(db, beans, pid)
    assert verify(data).valid
    assert len(json.loads(data)["keys"]["acme"]) == 2
    with db.transaction() as session:
        loaded = load(session, acme, pid)
        stale = next_entry(loaded.record_id, loaded.entries, "resume", "acme",
                           SigningKey(b"s" * 32), "2026-12-02T00:00:00Z")  # fmt: skip
    with pytest.raises(InvalidInputError, match="key in force"):
        agreements.submit_entry(db, acme, pid, stale)


def test_a_business_not_here_yet_is_invited_with_the_proposal_waiting(
    db: Database, orgs: dict[str, int]
) -> None:
    acme = orgs["acme"]
    with pytest.raises(InvalidInputError, match="parties must be acme and newco"):
        propose_to_newcomer(db, acme, "boss@acme.example", "newco", "Newco", "o@newco.example",
                            template("acme", "beans"))  # fmt: skip
    with db.transaction() as session:  # refused half-way: nothing was made
        assert OrganizationRepository(session).find_slug("newco") is None
    with pytest.raises(ConflictError, match="already on this server"):
        propose_to_newcomer(db, acme, "boss@acme.example", "beans", "Beans", "o@b.example",
                            template("acme", "beans"))  # fmt: skip
    made = propose_to_newcomer(db, acme, "boss@acme.example", "newco", "Newco",
                               "Owner@Newco.example", template("acme", "newco"))  # fmt: skip
    assert made.step.status is PartnershipStatus.NEGOTIATING
    token = made.invitation.link.rsplit("/", 1)[1]
    owner = accept_invitation(db, token, "a long enough password")
    assert (owner.email, owner.role) == ("owner@newco.example", Role.OWNER)
    done = accept(db, owner.org_id, made.step.partnership_id, 1)
    assert done.status is PartnershipStatus.ACTIVE
    assert verify(_bundle(db, acme, made.step.partnership_id)).valid


def test_targets_and_monthly_statements_come_from_the_terms_in_force(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    objective = {"goal": "sales", "metric": "sales", "target": 4, "per": "month",
                 "review_on": "2027-01-31"}  # fmt: skip
    terms = parse_terms(template("acme", "beans").document()
                        | {"start": "2026-10-01", "objectives": [objective]})  # fmt: skip
    pid = propose(db, acme, "beans", terms).partnership_id
    with pytest.raises(ConflictError, match="no terms are in force"):
        add_statement(db, acme, pid, "2026-10", today=date(2026, 12, 3))
    accept(db, beans, pid, 1)
    create_code(db, acme, "beans", "BEANS10", CodeKind.REFERRAL)
    record_conversions(db, acme, [_sale("BEANS10")])  # 2026-11-02, 50.00 EUR
    shown = targets(db, beans, pid, today=date(2026, 11, 20))
    assert [(t.metric, t.target, t.actual, t.since) for t in shown] == [
        ("sales", 4, 1, date(2026, 11, 1))]  # fmt: skip
    done = add_statement(db, beans, pid, "2026-11", today=date(2026, 12, 3))  # either side
    with db.transaction() as session:
        last = load(session, acme, pid).entries[-1]
    assert (last.kind, last.hash) == ("statement", done.entry_hash)
    assert last.body == {"month": "2026-11",
                         "kpis": {"clicks": 0, "leads": 0, "sales": 1,
                                  "revenue_minor": {"EUR": 5000}},
                         "targets": [{"metric": "sales", "target": 4, "actual": 1}],
                         "commissions": {}}  # nothing approved in November  # fmt: skip
    with pytest.raises(ConflictError, match="already in the record"):
        add_statement(db, acme, pid, "2026-11", today=date(2026, 12, 3))
    with pytest.raises(InvalidInputError, match="not over yet"):
        add_statement(db, acme, pid, "2026-12", today=date(2026, 12, 3))
    for month in ("2026-13", "0000-01"):  # the year 0 was a server error (the API fuzzer)
        with pytest.raises(InvalidInputError, match=r"not a month between|not YYYY-MM"):
            add_statement(db, acme, pid, month)
    assert verify(_bundle(db, acme, pid)).valid


def test_terms_offered_on_a_prospect_propose_and_an_ended_one_takes_none(
    db: Database, orgs: dict[str, int]
) -> None:
    acme, beans = orgs["acme"], orgs["beans"]
    prospect = get_partnership(db, acme, propose(db, acme, "beans", template("acme", "beans"))
                               .partnership_id)  # fmt: skip
    move(db, beans, prospect.id, "end", "not this year")
    later = propose_partnership(db, beans, "acme", "Second try")
    change_status(db, acme, later.id, PartnershipStatus.ENDED, reason="no")
    with pytest.raises(ConflictError, match="has ended"):
        offer(db, beans, later.id, template("acme", "beans"))
    again = propose_partnership(db, beans, "acme", "Third try")
    made = offer(db, beans, again.id, template("acme", "beans"))  # a proposal: no record yet
    assert (made.version, made.status) == (1, PartnershipStatus.NEGOTIATING)


def test_terms_signed_off_the_server_are_held_to_the_schema(
    db: Database, orgs: dict[str, int]
) -> None:
    """An organization signing its own counter cannot slip in terms the schema refuses, or
    terms spelled otherwise than the schema writes them (each reader must read the same)."""
    acme, beans = orgs["acme"], orgs["beans"]
    pid = propose(db, acme, "beans", template("acme", "beans")).partnership_id
    own = SigningKey(b"q" * 32)
    hold_key_locally(db, beans, public_key_of(own))
    draft = agreements.draft_entry(db, beans, pid, "counter", terms=template("acme", "beans"))
    bad = {**draft.body["terms"], "commission": {"currency": "EUR", "rules": []}}
    short = {k: v for k, v in draft.body["terms"].items() if k != "assets"}  # a default left out
    for terms, refused in ((bad, "commission.rules"), (short, "as the schema writes them")):
        forged = replace(draft, body={"version": 2, "terms": terms}).signed_with(own)
        with pytest.raises(InvalidInputError, match=refused):
            agreements.submit_entry(db, beans, pid, forged)
    assert agreements.submit_entry(db, beans, pid, draft.signed_with(own)).version == 2
