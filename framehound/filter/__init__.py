"""The filter stage: which frames and boxes become training labels."""
