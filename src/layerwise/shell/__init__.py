"""Understanding RUN scripts."""
