"""``python -m usagestat`` (and the entry point of ``usagestat.pyz``)."""

import sys

from usagestat.entry import main

if __name__ == "__main__":
    sys.exit(main())
