"""Track: tracking links and their allow-list, conversions and partner codes, imports,
touchpoints, signed webhooks in and out, and daily statistics."""
