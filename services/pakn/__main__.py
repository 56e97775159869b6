"""`python -m pakn …` is the same as the `pakn` command."""

from pakn.cli import main

raise SystemExit(main())
