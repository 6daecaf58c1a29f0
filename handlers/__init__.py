"""Channel-agnostic conversation logic: Q&A, registration, reporting, office views, digests."""
