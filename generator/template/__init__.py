"""The template side of the pipeline: the source, the questionnaire, the render, the update."""
