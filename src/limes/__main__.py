import sys

from limes.cli import main

sys.exit(main())
