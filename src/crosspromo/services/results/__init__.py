"""Results every stage shares: the cache that computes each heavy result once per data change
(``cache``), the results the dashboards take from it (``latest``), and how a result leaves out
the fields only some results carry (``shown``)."""
