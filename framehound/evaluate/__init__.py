"""Label quality measured against people's boxes: precision, recall, box fit and complete images."""
