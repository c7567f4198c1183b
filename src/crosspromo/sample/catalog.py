"""The cast of the sample ecosystem: organizations, their audiences' interests, and the
partnerships between them. Interests are the latent traits that make audiences overlap."""

from __future__ import annotations

from crosspromo.domain import OrgKind, PartnershipStatus

INTERESTS = ("outdoor", "coffee", "fitness", "food", "travel", "wellness", "reading", "pets")

# slug, name, kind, category, base audience size at scale 100, interest weights,
# share of customers consenting to partner sharing / promotional e-mail.
ORGANIZATIONS: tuple[tuple[str, str, OrgKind, str, int, dict[str, float], float, float], ...] = (
    ("trailhead-outfitters", "Trailhead Outfitters", OrgKind.BRAND, "outdoor-gear", 9000,
     {"outdoor": 3.0, "travel": 1.5, "fitness": 1.0}, 0.62, 0.78),
    ("alpine-gear-co", "Alpine Gear Co.", OrgKind.BRAND, "outdoor-gear", 7000,
     {"outdoor": 3.0, "travel": 1.0, "fitness": 1.2}, 0.55, 0.70),
    ("summit-coffee", "Summit Coffee Roasters", OrgKind.PARTNER, "coffee", 6500,
     {"coffee": 3.0, "outdoor": 1.2, "reading": 1.0}, 0.70, 0.82),
    ("brewhaus-coffee", "Brewhaus Coffee", OrgKind.PARTNER, "coffee", 5000,
     {"coffee": 3.0, "food": 1.0, "reading": 0.8}, 0.48, 0.66),
    ("peak-fitness", "Peak Fitness", OrgKind.BRAND, "fitness", 8000,
     {"fitness": 3.0, "wellness": 1.5, "food": 0.8}, 0.66, 0.74),
    ("bloom-yoga", "Bloom Yoga Studio", OrgKind.PARTNER, "wellness", 3500,
     {"wellness": 3.0, "fitness": 1.5, "food": 0.6}, 0.74, 0.80),
    ("greenleaf-meals", "Greenleaf Meal Kits", OrgKind.BRAND, "food", 7500,
     {"food": 3.0, "wellness": 1.2, "fitness": 0.8}, 0.58, 0.72),
    ("wanderlust-travel", "Wanderlust Travel", OrgKind.BRAND, "travel", 6000,
     {"travel": 3.0, "outdoor": 1.4, "reading": 0.6}, 0.60, 0.76),
    ("nomad-insurance", "Nomad Travel Insurance", OrgKind.PARTNER, "insurance", 4000,
     {"travel": 2.6, "outdoor": 0.8}, 0.52, 0.60),
    ("ridge-bikes", "Ridge Bikes", OrgKind.PARTNER, "cycling", 3000,
     {"outdoor": 2.0, "fitness": 2.0}, 0.64, 0.71),
    ("campfire-books", "Campfire Books", OrgKind.PARTNER, "books", 4500,
     {"reading": 3.0, "coffee": 1.0, "travel": 0.7}, 0.69, 0.83),
    ("pixel-pets", "Pixel Pets", OrgKind.PARTNER, "pets", 5000,
     {"pets": 3.0, "outdoor": 0.7}, 0.57, 0.75),
)  # fmt: skip

# initiator, partner, partnership name, status: every lifecycle stage is represented.
PARTNERSHIPS: tuple[tuple[str, str, str, PartnershipStatus], ...] = (
    ("trailhead-outfitters", "summit-coffee", "Trail & Brew bundle", PartnershipStatus.ACTIVE),
    ("trailhead-outfitters", "ridge-bikes", "Ride the Ridge referrals", PartnershipStatus.ACTIVE),
    ("trailhead-outfitters", "wanderlust-travel", "Adventure trips co-marketing", PartnershipStatus.NEGOTIATING),
    ("trailhead-outfitters", "nomad-insurance", "Covered outdoors", PartnershipStatus.PROSPECT),
    ("trailhead-outfitters", "campfire-books", "Campfire stories newsletter swap", PartnershipStatus.PAUSED),
    ("trailhead-outfitters", "pixel-pets", "Trail dogs giveaway", PartnershipStatus.ENDED),
    ("peak-fitness", "bloom-yoga", "Strength & stretch membership", PartnershipStatus.ACTIVE),
    ("peak-fitness", "greenleaf-meals", "Fuel your training", PartnershipStatus.ACTIVE),
    ("greenleaf-meals", "brewhaus-coffee", "Breakfast box", PartnershipStatus.NEGOTIATING),
    ("wanderlust-travel", "nomad-insurance", "Travel protected", PartnershipStatus.ACTIVE),
    ("wanderlust-travel", "campfire-books", "Read before you roam", PartnershipStatus.PROSPECT),
    ("alpine-gear-co", "ridge-bikes", "Alpine ride days", PartnershipStatus.PAUSED),
    ("summit-coffee", "campfire-books", "Books & beans event", PartnershipStatus.ENDED),
    ("bloom-yoga", "greenleaf-meals", "Mindful eating webinar", PartnershipStatus.PROSPECT),
)  # fmt: skip

SEGMENTS = ("new", "regular", "vip")
SEGMENT_WEIGHTS = (0.5, 0.38, 0.12)
