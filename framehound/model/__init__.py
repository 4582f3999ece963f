"""The model stage: Darknet files fetched from where params say, checksummed."""
