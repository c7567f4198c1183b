from __future__ import annotations

import pytest

from crosspromo.domain import PartnershipStatus as S
from crosspromo.domain import Role
from crosspromo.domain.models import allowed_transitions, check_slug, check_transition
from crosspromo.errors import InvalidInputError, InvalidTransitionError

LIFECYCLE = [
    (S.PROSPECT, S.NEGOTIATING),
    (S.NEGOTIATING, S.ACTIVE),
    (S.ACTIVE, S.PAUSED),
    (S.PAUSED, S.ACTIVE),
    (S.ACTIVE, S.ENDED),
]


@pytest.mark.parametrize(("current", "target"), LIFECYCLE)
def test_lifecycle_steps_are_allowed(current: S, target: S) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.PROSPECT, S.ACTIVE), (S.ENDED, S.ACTIVE), (S.PAUSED, S.NEGOTIATING), (S.ACTIVE, S.ACTIVE)],
)
def test_skipping_or_reopening_is_refused(current: S, target: S) -> None:
    with pytest.raises(InvalidTransitionError, match=f"from {current} to {target}"):
        check_transition(current, target)


def test_every_status_can_end_except_ended() -> None:
    for status in S:
        assert (S.ENDED in allowed_transitions(status)) == (status is not S.ENDED)
    assert allowed_transitions(S.ENDED) == frozenset()


@pytest.mark.parametrize("slug", ["a", "acme", "acme-2", "x" * 64])
def test_valid_slugs(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "-a", "a-", "Acme", "a_b", "x" * 65, "a b"])
def test_invalid_slugs_are_named(slug: str) -> None:
    with pytest.raises(InvalidInputError, match="slug"):
        check_slug(slug)


def test_only_partner_role_uses_portal() -> None:
    assert [r for r in Role if r.uses_portal] == [Role.PARTNER]
