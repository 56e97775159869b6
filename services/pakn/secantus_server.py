"""The embedded store's own process: SecantusDB's server, with one fix carried until upstream.

SecantusDB 0.7.0b3 decodes a collection's whole index catalogue from WiredTiger three times
for every document it inserts (``Storage._index_options_map``, called by ``_unique_conflict``,
``_validate_geo_indexes`` and ``_write_index_entries``), although the insert has already read
the list of those same indexes once for its whole batch (``_insert_chunk``, under the
collection's lock). With the 14 indexes of ``cases`` that is a quarter to a third of the time a
case insert takes (py-spy on the store, issue 18), and it grows with every index.

The fix reads the options once per batch too, so they are the same snapshot as the list of
indexes they go with; outside an insert batch nothing changes. It applies to the release it
was written against only: another release runs unchanged, with a warning in the store's log,
so an upgrade can never run a fix against code it was not written for.
Upstream: https://secantusdb.com/ (the report's text is in the README, "The embedded store").
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("pakn.secantus_server")

#: The SecantusDB release the fix was written against and tested with (pyproject pins it).
FIXED_RELEASE = "0.7.0b3"

_IndexOptions = dict[str, dict[str, Any]]

# One insert batch at a time per thread: the store serves each connection on its own thread.
_batch = threading.local()


def _options_once_per_batch(
    insert_chunk: Callable[..., Any], index_options_map: Callable[[Any, str, str], _IndexOptions]
) -> tuple[Callable[..., Any], Callable[[Any, str, str], _IndexOptions]]:
    """The two methods, wrapped: a batch keeps the options it first read for a collection."""

    def batch_insert_chunk(self: Any, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(_batch, "options", None)
        _batch.options = {}
        try:
            return insert_chunk(self, *args, **kwargs)
        finally:
            _batch.options = outer

    def batch_index_options_map(self: Any, db: str, coll: str) -> _IndexOptions:
        kept: dict[tuple[int, str, str], _IndexOptions] | None = getattr(_batch, "options", None)
        if kept is None:
            return index_options_map(self, db, coll)
        key = (id(self), db, coll)
        if key not in kept:
            kept[key] = index_options_map(self, db, coll)
        return kept[key]

    return batch_insert_chunk, batch_index_options_map


def apply_fixes(release: str | None = None) -> bool:
    """Carry the fix into SecantusDB's ``Storage``; False (and nothing changed) on a release
    it was not written for."""
    import secantus
    from secantus.storage import Storage

    release = release or secantus.__version__
    if release != FIXED_RELEASE:
        log.warning(
            "SecantusDB %s is not %s: running it without pakn's fix for index catalogue "
            "reads (inserts into collections with many indexes are slower)",
            release,
            FIXED_RELEASE,
        )
        return False
    if getattr(Storage, "_pakn_fixed", False):
        return True
    chunk, options = _options_once_per_batch(Storage._insert_chunk, Storage._index_options_map)
    Storage._insert_chunk = chunk
    Storage._index_options_map = options
    Storage._pakn_fixed = True
    return True


def main() -> int:
    """``python -m pakn.secantus_server <secantus flags>``: SecantusDB's CLI, fixed."""
    from secantus.cli import main as secantus_main

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    apply_fixes()
    result: int = secantus_main(sys.argv[1:])
    return result


if __name__ == "__main__":
    raise SystemExit(main())
