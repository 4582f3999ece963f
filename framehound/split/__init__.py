"""The split stage: train/val/test by video, written in Darknet/YOLO layout."""
