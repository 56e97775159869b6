"""`python -m pakn_hotline` runs the hotline service alone."""

from pakn_hotline.app import main

main()
