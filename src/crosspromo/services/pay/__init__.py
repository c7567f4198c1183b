"""Pay: commissions from the agreed rules, the ledger they move through, payouts."""
