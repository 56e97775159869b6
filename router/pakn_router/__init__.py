"""The router: classify each submission, assign the competent agency, set its deadline."""
