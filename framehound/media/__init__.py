"""ffmpeg/ffprobe location and media probing."""
