"""Smart living and office: falls, occupancy, privacy masks, known faces."""
