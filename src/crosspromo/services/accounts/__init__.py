"""Accounts: organizations (tenants), their users and API keys, their customers and consents,
and what an organization sees first."""
