import sys

from beam_stats.cli import console

sys.exit(console())
