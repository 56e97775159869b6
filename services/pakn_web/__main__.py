"""`python -m pakn_web` runs the web intake alone."""

from pakn_web.app import main

main()
