import sys

from werkeffect.cli import main

sys.exit(main())
