import sys

from beam_stats.cli import main

sys.exit(main())
