"""Import OpenVINO without its telemetry: the one way framehound imports it (detect and the graph builder alike)."""

from __future__ import annotations

import sys
from types import ModuleType

from framehound.errors import FramehoundError


def import_openvino() -> ModuleType:
    """The openvino module, or a FramehoundError that says how to install it.

    A plain ``import openvino`` starts its telemetry (a client id in ``~/intel``)
    and its converter reports every conversion to Google Analytics, unless the
    ``openvino_telemetry`` package cannot be imported, when it takes its own
    no-op stub: hidden here, so detect writes nothing there and contacts no site.
    Import openvino through this function, first.
    """
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]  None: "import fails"
    try:
        import openvino
    except ImportError:
        raise FramehoundError("detect.backend: openvino needs OpenVINO: pip install -r requirements.txt") from None
    return openvino
