"""Make the Modbus test helpers (``modbus_strategies``) importable: the test tree is not a
package and pytest runs with ``--import-mode=importlib``."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.append(_HERE)
