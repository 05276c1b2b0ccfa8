"""Questions asked of stored runs: checks, history (diffs, trends), audit samples."""
