"""The screen stage: drop near-duplicate and blurry frames before detection."""
