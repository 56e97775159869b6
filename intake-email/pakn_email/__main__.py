"""`python -m pakn_email` runs the e-mail intake alone."""

from pakn_email.app import main

main()
