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

# Profiles for discovery: description (whom it serves, for what), offerings, region, social
# followers and interactions over the last 90 days.
PROFILES: dict[str, tuple[str, tuple[str, ...], str, int, int]] = {
    "trailhead-outfitters": ("Outdoor gear for hikers, campers and trail runners who spend their weekends on the trail.",
                             ("hiking boots", "tents", "backpacks", "rain jackets"), "US-West", 48000, 1900),
    "alpine-gear-co": ("Mountain equipment for climbers, hikers and ski tourers.",
                       ("climbing harnesses", "tents", "hiking boots", "ski touring skins"), "US-West", 52000, 1500),
    "summit-coffee": ("Small-batch coffee roasted for early starts: at home, at camp and on the trail.",
                      ("whole bean coffee", "camp coffee kits", "coffee subscriptions"), "US-West", 21000, 1400),
    "brewhaus-coffee": ("A neighbourhood coffee roaster and cafe for home baristas.",
                        ("espresso beans", "whole bean coffee", "brewing gear"), "US-Midwest", 15000, 400),
    "peak-fitness": ("Gyms and personal training for people building strength and endurance.",
                     ("gym memberships", "personal training", "group classes"), "US-East", 39000, 1300),
    "bloom-yoga": ("Yoga and mindfulness classes for flexibility, balance and recovery.",
                   ("yoga classes", "meditation courses", "recovery workshops"), "US-East", 12000, 700),
    "greenleaf-meals": ("Healthy meal kits for busy people who want to eat well after training.",
                        ("meal kits", "protein snacks", "plant-based recipes"), "US-East", 30000, 800),
    "wanderlust-travel": ("Adventure trips and guided hiking holidays for curious travellers.",
                          ("guided hiking tours", "adventure holidays", "trip planning"), "US-West", 44000, 1600),
    "nomad-insurance": ("Travel insurance for hikers, climbers and adventurous travellers.",
                        ("trip cancellation cover", "mountain rescue cover", "medical evacuation cover"), "Global", 9000, 180),
    "ridge-bikes": ("Mountain and gravel bikes for riders who explore trails and back roads.",
                    ("mountain bikes", "gravel bikes", "bike servicing"), "US-West", 26000, 1500),
    "campfire-books": ("An independent bookshop for readers of travel writing and nature books.",
                       ("travel books", "nature writing", "book subscriptions"), "US-East", 11000, 500),
    "pixel-pets": ("Toys, treats and gear for dogs and cats.",
                   ("dog toys", "cat treats", "pet harnesses"), "US-Midwest", 18000, 450),
}  # fmt: skip

# Public mentions (short reviews and posts), imported as text.
MENTIONS: dict[str, tuple[str, ...]] = {
    "trailhead-outfitters": ("Great boots, lasted the whole thru-hike!", "Friendly staff and fast returns.",
                             "The tent leaked on night two. Disappointed."),
    "alpine-gear-co": ("Solid harness, feels safe.", "Shipping took forever and support never answered."),
    "summit-coffee": ("Best camp coffee I have ever had!", "Love the subscription, always fresh and delicious.",
                      "Amazing beans, great people.", "A bit pricey but worth it."),
    "brewhaus-coffee": ("Nice espresso.", "The cafe was dirty and the barista was rude.",
                        "Bitter, burnt beans. Terrible."),
    "peak-fitness": ("Great trainers, I finally enjoy the gym!", "Crowded at peak hours."),
    "bloom-yoga": ("Wonderful calm studio, lovely teachers.", "The recovery workshop helped my back so much!"),
    "greenleaf-meals": ("Tasty and healthy.", "Box arrived late and the salad was wilted."),
    "wanderlust-travel": ("Incredible guided trip, perfectly organized!", "Our guide was fantastic.",
                          "Some hotels were disappointing."),
    "nomad-insurance": ("Claim was paid quickly after my injury, thank you!", "Confusing policy wording."),
    "ridge-bikes": ("Awesome gravel bike, smooth and fast.", "Great service, fixed my wheel the same day!",
                    "Love this shop."),
    "campfire-books": ("Charming shop with a great travel section.", "Wonderful recommendations."),
    "pixel-pets": ("My dog destroyed the toy in five minutes.", "Cute treats, cats like them."),
}  # fmt: skip
