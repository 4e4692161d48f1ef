"""One module per scenario, run in file-name order; see chaos/README.md, "Adding a scenario"."""
