"""Scale-out on Ray: batch jobs over many videos and image sets (``shigu batch``)."""
