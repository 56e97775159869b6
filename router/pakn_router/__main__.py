"""`python -m pakn_router` runs the router alone."""

from pakn_router.app import main

main()
