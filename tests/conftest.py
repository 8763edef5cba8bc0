import sys
from pathlib import Path

# Test helpers (tests/proto_compare.py, ...) import as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))

# Fixtures shared by several test folders.
pytest_plugins = ["local_services"]
