"""framehound: turn online video into labeled object-detection datasets."""

__version__ = "0.1.0"
