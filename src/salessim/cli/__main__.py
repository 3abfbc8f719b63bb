"""``python -m salessim.cli``: the same as the ``salessim`` command."""

import sys

from . import main

sys.exit(main())
