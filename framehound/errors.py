"""The one exception type that reaches users as a single clear line."""


class FramehoundError(Exception):
    """A problem the user can fix (bad param, bad input file, bad checksum).

    Stages print ``error: <message>`` and exit non-zero instead of a traceback,
    so the message must name the offending key or file.
    """
