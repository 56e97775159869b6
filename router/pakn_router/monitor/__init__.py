"""The routing monitor: operators decide triage, correct routing, replay dead letters (:8083)."""
