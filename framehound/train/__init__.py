"""The train stage: fine-tune the pipeline's Darknet model on its own dataset and export it in Darknet format."""
