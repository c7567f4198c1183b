"""Use cases, grouped by the stage of a partnership a user thinks in, the same words as the
dashboard's tabs, ``web/routes/`` and ``cli/``:

- ``accounts/``: organizations, users, API keys, customers and their consents, and what an
  organization (or a partner, in its portal) sees first;
- ``discover/``: partner profiles and mentions, ranked candidates with reasons (``ranking``),
  identifier lists and overlap in one process (``lists``), overlap sessions between tenants
  (``sessions``) and with another server (``remote``);
- ``agree/``: partnerships and their lifecycle;
- ``track/``: links and their allow-list, conversions and codes, file imports, touchpoints,
  signed webhooks in (``inbound``) and out (``outbound``), daily statistics;
- ``measure/``: attribution of path files (``attribution``) and of tracked journeys
  (``journeys``), experiment design, stored experiments, analyses of files of units, customer
  value (``clv``), churn, partnership KPIs;
- ``sample/``: the sample ecosystem written into the store, and the demo's preparation.

``database`` (open, migrate) and ``tabular`` (CSV and Parquet in and out) serve every stage.
A use case loads from the store, calls analytics and saves; it returns a typed result that the
API and the command line render as it is, declared once here: the public shape of the data,
not the domain's rows (their ids and hashes stay inside).
"""
