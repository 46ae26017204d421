"""`python -m jiuzhutong` is the `jiuzhutong` command."""

from jiuzhutong.cli import main

raise SystemExit(main())
