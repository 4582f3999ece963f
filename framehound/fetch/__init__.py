"""The fetch stage: videos from URLs, playlists, searches and local files."""
