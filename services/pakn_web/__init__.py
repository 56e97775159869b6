"""Web portal and mobile app intake: `pakn web` (DESIGN.md §5)."""
