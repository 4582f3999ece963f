"""The visual report: one self-contained HTML page to judge a dataset by eye."""
