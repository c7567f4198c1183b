"""Discover: partner profiles and mentions, ranked candidates with reasons, and private
audience overlap (identifier lists, protocol sessions)."""
