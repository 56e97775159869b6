"""Core subcommands of the `pakn` CLI, each with `add_parser(subparsers)` and `run(args)`."""
