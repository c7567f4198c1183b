"""A seeded simulator of a whole partner ecosystem, with its ground truth recorded."""

from crosspromo.sample.ecosystem import Ecosystem, OrgSpec, generate

__all__ = ["Ecosystem", "OrgSpec", "generate"]
