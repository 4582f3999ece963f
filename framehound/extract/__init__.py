"""The extract stage: frames sampled from each video with ffmpeg."""
