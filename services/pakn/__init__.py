"""PAKN Gateway core: schema, ids, bus, store, settings, metrics, Vietnamese text, calendar."""
