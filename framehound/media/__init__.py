"""ffmpeg location and media probing."""
