"""`python -m deploy SUBCOMMAND ...`: see deploy.cli."""

from deploy.cli import main

raise SystemExit(main())
