"""`python -m tickets_cli` runs the `tickets` command."""

from tickets_cli.main import main

main()
