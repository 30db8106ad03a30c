"""Type aliases for arrays passed through the public API."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

#: A 1-D array of :data:`qlib.dtypes.EVENT_DTYPE`.
EventArray: TypeAlias = npt.NDArray[np.void]
#: int64 nanoseconds since the Unix epoch, UTC.
NsArray: TypeAlias = npt.NDArray[np.int64]
