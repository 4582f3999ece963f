"""People's decisions about frames: the append-only log (``log``) and what they did to the boxes (``outcomes``).

Inputs of the filter stage, which applies them as its last rule
(``framehound.filter.decisions``); the review UI (``framehound.review``) writes
and reads them and sits above this package, never the reverse.
"""
