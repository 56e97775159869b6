"""Staff accounts and sessions: one login for the hotline console and the routing monitor."""
