"""``python -m snowseg.readiness``: see :mod:`snowseg.readiness.cli`."""

import sys

from snowseg.readiness.cli import main

sys.exit(main())
