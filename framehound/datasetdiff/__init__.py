"""``framehound diff``: what changed in data/dataset/ between two revisions, read without a checkout."""
