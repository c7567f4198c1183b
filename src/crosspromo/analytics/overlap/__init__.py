"""Audience overlap without either side revealing its customers: exact private set
intersection cardinality over Curve25519, and an approximate mode on coordinated samples."""

from crosspromo.analytics.overlap.identifiers import IdentifierKind, Normalized, normalize
from crosspromo.analytics.overlap.local import run_exact, run_sketch
from crosspromo.analytics.overlap.psi import (
    Audience,
    Disclosure,
    OverlapResult,
    Requester,
    ResponderState,
    SegmentOverlap,
    prepare_responder,
    read_result,
    respond,
)
from crosspromo.errors import ProtocolMessageError

__all__ = [
    "Audience",
    "Disclosure",
    "IdentifierKind",
    "Normalized",
    "OverlapResult",
    "ProtocolMessageError",
    "Requester",
    "ResponderState",
    "SegmentOverlap",
    "normalize",
    "prepare_responder",
    "read_result",
    "respond",
    "run_exact",
    "run_sketch",
]
