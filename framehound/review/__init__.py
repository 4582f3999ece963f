"""Human review of what the detector proposed: the decision log, how filter applies it, the review page."""
