"""Partner discovery: complementarity of offerings, reputation and engagement, one explainable
compatibility score (weighted or learned), the ecosystem graph and outreach drafts."""
