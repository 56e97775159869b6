"""The agency workspace: handling, approval and publication of a case (DESIGN.md §5)."""
