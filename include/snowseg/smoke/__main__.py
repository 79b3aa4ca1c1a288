"""``python -m snowseg.smoke``: see :mod:`snowseg.smoke.cli`."""

import sys

from snowseg.smoke.cli import main

sys.exit(main())
