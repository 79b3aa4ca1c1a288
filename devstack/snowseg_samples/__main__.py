"""``python -m snowseg_samples``: see :func:`snowseg_samples.generator.main`."""

import sys

from snowseg_samples.generator import main

sys.exit(main())
