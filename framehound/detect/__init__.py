"""The detect stage: every box the model sees above a low confidence floor."""
