import sys

from kubedora.cli import main

sys.exit(main())
