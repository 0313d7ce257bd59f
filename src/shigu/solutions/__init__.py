"""Ready-made set-ups for the application ends, built from the pipeline's pieces."""
